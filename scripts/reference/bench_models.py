#!/usr/bin/env python3
"""Times whole networks with synthetic weights, Swift beside PyTorch, on this machine.

    python scripts/reference/bench_models.py --swift-binary .build/release/auffusion [--runs N]

For each benchmark below it runs `auffusion bench <model> --config … --json` (one warm-up, then
the median of --runs runs, peak RSS of the process) and the same forward pass with diffusers 0.18.2
/ transformers 4.30.2 / the vocoder written out in vocoder_fixtures.py, in a child process of its
own so that peak memory is measured per model. Both sides use AUFFUSION_THREADS threads (default:
all cores) and weights from synthetic.py (no checkpoint is read). Prints a table of times, ratios
and peak memory.
"""
import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
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
        x = torch.randn(batch, 4, height, width, generator=generator)
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


def run_reference(model: str, config: str, batch: int, latent: str, runs: int) -> dict:
    """Child-process entry: times the reference and prints the same JSON line as the Swift side."""
    import torch
    torch.set_num_threads(int(os.environ.get("AUFFUSION_THREADS", os.cpu_count() or 1)))
    work = reference_workload(model, CONFIGS / config, batch, latent)
    with torch.no_grad():
        work()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    return {"median_s": sorted(times)[len(times) // 2], "runs_s": times,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swift-binary", type=pathlib.Path)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--reference-only", nargs=4, metavar=("MODEL", "CONFIG", "BATCH", "LATENT"))
    arguments = parser.parse_args()
    if arguments.reference_only:
        model, config, batch, latent = arguments.reference_only
        print(json.dumps(run_reference(model, config, int(batch), latent, arguments.runs)))
        return
    rows = []
    for name, model, config, batch, latent in BENCHMARKS:
        common = ["--config", str(CONFIGS / config), "--batch", str(batch), "--latent", latent, "--runs", str(arguments.runs)]
        swift = json.loads(subprocess.run([str(arguments.swift_binary), "bench", model, *common, "--json"],
                                          check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        reference = json.loads(subprocess.run(
            [sys.executable, __file__, "--runs", str(arguments.runs), "--reference-only", model, config, str(batch), latent],
            check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        rows.append((name, swift, reference))
        print(f"  {name}: swift {swift['median_s']:.3f} s, reference {reference['median_s']:.3f} s", file=sys.stderr)
    print(f"\n{'model':34} | {'swift s':>8} | {'torch s':>8} | {'ratio':>5} | {'swift MiB':>9} | {'torch MiB':>9} | {'ratio':>5}")
    print("-" * 34 + "-+-" + "-+-".join("-" * w for w in (8, 8, 5, 9, 9, 5)))
    for name, swift, reference in rows:
        print(f"{name:34} | {swift['median_s']:8.3f} | {reference['median_s']:8.3f} | "
              f"{swift['median_s'] / reference['median_s']:5.2f} | {swift['peak_rss_mib']:9.0f} | "
              f"{reference['peak_rss_mib']:9.0f} | {swift['peak_rss_mib'] / reference['peak_rss_mib']:5.2f}")


if __name__ == "__main__":
    main()
