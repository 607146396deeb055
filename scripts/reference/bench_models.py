#!/usr/bin/env python3
"""Times whole networks with synthetic weights, Swift beside PyTorch, on this machine.

    python scripts/reference/bench_models.py --swift-bench .build/release/auffusion-bench
        [--current-python .venv-torch-current/bin/python] [--rounds N] [--runs N] [--only unet,vocoder]
        [--swift-before OLD_BINARY]

For each benchmark below, every round runs, one after the other and each in a process of its own
(so that peak memory is per model): `auffusion-bench <model> --config … --json` (one warm-up,
then --runs runs), and the same forward pass in PyTorch 2.0.1 fp32 (this interpreter: diffusers
0.18.2, transformers 4.30.2, the vocoder of vocoder_fixtures.py), and, when the current PyTorch's
virtualenv exists (`make .venv-torch-current/.installed`), in that PyTorch fp32 and under
`torch.autocast("cpu", dtype=torch.bfloat16)`. Swift and its peers alternate, so a load that
comes and goes from other programs hits every side alike. Each side's figure is the fastest run
over all rounds, with the spread of the per-round minima beside it; ratios are Swift / peer. Both
sides use AUFFUSION_THREADS threads (default: all cores) and weights from synthetic.py.
`--swift-before` adds a second Swift side, an older build, so that a kernel change is measured
before and after in the same run as its peers (its ratio column is then new / old). The U-Net
and the VAE decoder also run with `--products bfloat16` (the fast preset's bfloat16 products), in
a column of their own beside the fp32 ratio. On a CPU without bfloat16 dot products both bfloat16
sides are left out, saying so (cpu_features.py says why).
"""
import os

THREADS = int(os.environ.get("AUFFUSION_THREADS") or os.cpu_count() or 1)
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = str(THREADS)

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONFIGS = HERE / "configs"
BENCHMARKS = [  # (name, swift subcommand, config, batch, latent HxW; for the vocoder W is frames)
    ("unet, one guided step at 10 s", "unet", "unet-sd15.json", 2, "32x128"),
    ("vae decode to 256 x 1024", "vae-decode", "vae-sd.json", 1, "32x128"),
    ("vae encode of 256 x 1024", "vae-encode", "vae-sd.json", 1, "32x128"),
    ("text encoder, 77 tokens", "text-encoder", "clip-text-large.json", 1, "32x128"),
    ("vocoder, 1000 frames", "vocoder", "vocoder-auffusion.json", 1, "1x1000"),
]


def reference_workload(model: str, config_path: pathlib.Path, batch: int, latent: str):
    """Builds the PyTorch network with synthetic weights and returns one forward pass."""
    import torch
    sys.path.insert(0, str(HERE))
    from synthetic import fill_synthetic
    config = json.loads(config_path.read_text())
    height, width = (int(v) for v in latent.split("x"))
    generator = torch.Generator().manual_seed(0)
    if model == "unet":
        from diffusers import UNet2DConditionModel
        net = UNet2DConditionModel.from_config(config).eval()
        fill_synthetic(net)
        # An even batch is a guided step as the pipelines run it: the same latents in both halves.
        x = torch.randn(batch // 2 if batch % 2 == 0 else batch, 4, height, width, generator=generator)
        x = torch.cat([x, x]) if batch % 2 == 0 else x
        context = torch.randn(batch, 77, config["cross_attention_dim"], generator=generator)
        t = torch.full((batch,), 981.0)
        return lambda: net(x, t, encoder_hidden_states=context).sample
    if model in ("vae-decode", "vae-encode"):
        from diffusers import AutoencoderKL
        net = AutoencoderKL.from_config(config).eval()
        fill_synthetic(net)
        if model == "vae-decode":
            z = torch.randn(batch, 4, height, width, generator=generator)
            return lambda: net.decode(z).sample
        image = torch.randn(batch, 3, height * 8, width * 8, generator=generator)
        return lambda: net.encode(image).latent_dist.mean
    if model == "text-encoder":
        from transformers import CLIPTextConfig, CLIPTextModel
        net = CLIPTextModel(CLIPTextConfig(**config)).eval()
        fill_synthetic(net)
        ids = torch.tensor([[(i * 7919) % config["vocab_size"] for i in range(77)]] * batch)
        return lambda: net(ids)[0]
    from vocoder_fixtures import Generator
    net = Generator(config, normed=False).eval()
    fill_synthetic(net)
    mel = torch.randn(batch, config["num_mels"], width, generator=generator) * 2 - 5
    return lambda: net(mel)


def run_reference(model: str, config: str, batch: int, latent: str, runs: int, precision: str) -> dict:
    """Child-process entry: times the reference and prints the same JSON line as the Swift side."""
    import contextlib
    import torch
    torch.set_num_threads(THREADS)
    work = reference_workload(model, CONFIGS / config, batch, latent)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    with torch.no_grad(), autocast():
        work()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    return {"median_s": sorted(times)[len(times) // 2], "runs_s": times, "torch": torch.__version__.split("+")[0],
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def last_json_line(command: list) -> dict | None:
    """Runs `command` and parses its last line of output, or returns None (with its error) if it failed."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"  failed: {' '.join(command[:4])} …: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swift-bench", type=pathlib.Path, help="the auffusion-bench binary")
    parser.add_argument("--current-python", type=pathlib.Path, default=ROOT / ".venv-torch-current" / "bin" / "python",
                        help="the current PyTorch's interpreter (skipped when absent)")
    parser.add_argument("--swift-before", type=pathlib.Path, help="an older auffusion-bench binary, timed as one more side")
    parser.add_argument("--runs", type=int, default=2, help="timed runs per process, after one warm-up")
    parser.add_argument("--rounds", type=int, default=2, help="times every side is run, alternating")
    parser.add_argument("--only", help="comma-separated Swift subcommands to run (default: all)")
    parser.add_argument("--reference-only", nargs=5, metavar=("MODEL", "CONFIG", "BATCH", "LATENT", "PRECISION"))
    arguments = parser.parse_args()
    if arguments.reference_only:
        model, config, batch, latent, precision = arguments.reference_only
        print(json.dumps(run_reference(model, config, int(batch), latent, arguments.runs, precision)))
        return
    sys.path.insert(0, str(HERE))
    from cpu_features import has_bfloat16_products
    bfloat16_products = has_bfloat16_products()
    if not bfloat16_products:
        print("this CPU has no bfloat16 dot products (avx512_bf16, amx_bf16): the bf16 sides are left out", file=sys.stderr)
    peers = [("2.0.1", sys.executable, "fp32")]
    if arguments.current_python.exists():
        peers += [("current", str(arguments.current_python), "fp32")]
        peers += [("current", str(arguments.current_python), "bf16")] if bfloat16_products else []
    selected = set(arguments.only.split(",")) if arguments.only else None
    rows = []
    for name, model, config, batch, latent in BENCHMARKS:
        if selected and model not in selected:
            continue
        common = ["--config", str(CONFIGS / config), "--batch", str(batch), "--latent", latent, "--runs", str(arguments.runs)]
        swift_command = [str(arguments.swift_bench), model, *common, "--json"]
        before = [("swift before fp32", [str(arguments.swift_before), *swift_command[1:]])] if arguments.swift_before else []
        bfloat16 = ([("swift bf16", [*swift_command, "--products", "bfloat16"])]
                    if bfloat16_products and model in ("unet", "vae-decode") else [])
        sides = [("swift fp32", swift_command)] + bfloat16 + before + [
            (f"torch {label} {precision}", [python, __file__, "--runs", str(arguments.runs), "--reference-only",
                                            model, config, str(batch), latent, precision])
            for label, python, precision in peers]
        results = {side: [] for side, _ in sides}
        for _ in range(arguments.rounds):
            for side, command in sides:
                outcome = last_json_line(command)
                if outcome and "details" in outcome:  # Swift's run record keeps the times in its details
                    outcome = outcome["details"]
                if outcome:
                    results[side].append(outcome)
                    print(f"  {name}: {side} {min(outcome['runs_s']):.3f} s", file=sys.stderr)
        rows.append((name, results))
    print(f"\nthreads: {THREADS}; each figure is the fastest run over {arguments.rounds} rounds × {arguments.runs} runs, "
          "[spread of the per-round minima]; ratio = Swift / peer")
    for name, results in rows:
        swift_side = next(iter(results))
        swift = results[swift_side]
        if not swift:
            continue
        best = min(min(r["runs_s"]) for r in swift)
        bf16_runs = results.get("swift bf16") or []
        bf16_best = min((min(r["runs_s"]) for r in bf16_runs), default=None)
        print(f"\n{name}")
        print(f"  {'side':24} | {'seconds':>8} | {'spread':>15} | {'Swift/peer':>10} | {'peak MiB':>8} | {'mem ratio':>9}"
              + (f" | {'bf16/peer':>9}" if bf16_best else ""))
        for side, outcomes in results.items():
            if not outcomes:
                print(f"  {side:24} | {'failed':>8} |")
                continue
            minima = [min(r["runs_s"]) for r in outcomes]
            peak = max(r["peak_rss_mib"] for r in outcomes)
            swift_peak = max(r["peak_rss_mib"] for r in swift)
            label = side if "torch" not in outcomes[0] else side.replace("current", outcomes[0]["torch"])
            print(f"  {label:24} | {min(minima):8.3f} | {min(minima):6.3f}–{max(minima):6.3f} | "
                  f"{best / min(minima):10.2f} | {peak:8.0f} | {swift_peak / peak:9.2f}"
                  + (f" | {bf16_best / min(minima):9.2f}" if bf16_best else ""))


if __name__ == "__main__":
    main()
