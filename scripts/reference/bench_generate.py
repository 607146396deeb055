#!/usr/bin/env python3
"""Times a whole text-to-audio generation, Swift beside Python, on a full-size model folder.

    python scripts/reference/bench_generate.py --swift-binary .build/release/auffusion \
        [--folder /tmp/auffusion-synthetic] [--steps 25] [--scheduler dpmpp|unipc] [--repeat 1] [--exact-only]

The folder is written once (about 4.3 GB) in the layout of the released `auffusion-full`:
condition_config.json, text_encoder_0/ (CLIP ViT-L/14's text tower, with the real vocabulary),
condition_adapter_0/, unet/ (Stable Diffusion 1.5 sizes), vae/, scheduler/ (Auffusion's PNDM
config) and vocoder/ (Auffusion's HiFi-GAN config), every parameter from synthetic.py. Then the
same 10 s generation (one prompt, DPM-Solver++ or UniPC at --steps steps, guidance 7.5, seed 0) runs as
`auffusion generate` and as the Python pipeline of pipeline_fixtures.py (AuffusionPipeline.__call__
restated on diffusers 0.18.2 + transformers), each in a child process whose wall time and peak
resident memory /usr/bin/time reports. Loading the models is part of both times.

Swift also runs each fast preset of docs/compute.md (the same request with its speed flags:
adaptive guidance, feature caching, bfloat16 products, and --fast, which combines them) in the same run, so that
the table gives each beside the exact run and the Python pipeline. On a CPU without bfloat16 dot
products the bfloat16 run is left out: it would repeat the exact one (cpu_features.py). With --repeat N every run is
repeated N times, alternating, and the table keeps each one's fastest (the machine is shared).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
PROMPT = "a dog barking while rain falls on a tin roof"
# The CLI's sampler names and the diffusers classes they are (built from the folder's config).
SCHEDULERS = {"dpmpp": ("DPM-Solver++", "DPMSolverMultistepScheduler"), "unipc": ("UniPC", "UniPCMultistepScheduler")}
# The Swift runs: the exact one, then each fast preset (docs/compute.md, "Fast presets").
SWIFT_RUNS = [("swift exact", []), ("swift guidance-until 0.5", ["--guidance-until", "0.5"]),
              ("swift cache-interval 3", ["--cache-interval", "3"]), ("swift products bfloat16", ["--products", "bfloat16"]),
              ("swift --fast", ["--fast"])]


def write_folder(folder: pathlib.Path) -> None:
    """The synthetic full-size model folder (see the module docstring)."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel
    sys.path.insert(0, str(HERE))
    from clip_fixtures import ConditionAdapter, write_tokenizer_files
    from pipeline_fixtures import SCHEDULER_CONFIG
    from synthetic import fill_synthetic
    from vocoder_fixtures import Generator

    configs = HERE / "configs"
    folder.mkdir(parents=True)
    for name, model in [("unet", UNet2DConditionModel.from_config(json.loads((configs / "unet-sd15.json").read_text()))),
                        ("vae", AutoencoderKL.from_config(json.loads((configs / "vae-sd.json").read_text())))]:
        fill_synthetic(model)
        model.save_pretrained(folder / name, safe_serialization=True)
    text = CLIPTextModel(CLIPTextConfig(**json.loads((configs / "clip-text-large.json").read_text())))
    fill_synthetic(text)
    text.save_pretrained(folder / "text_encoder_0", safe_serialization=True)
    write_tokenizer_files(folder / "tokenizer")
    for file in (folder / "tokenizer").iterdir():
        file.rename(folder / "text_encoder_0" / file.name)
    (folder / "tokenizer").rmdir()
    condition = {"text_encoder_name": "text_encoder_0", "condition_adapter_name": "condition_adapter_0",
                 "condition_max_length": 77, "condition_dim": 768, "cross_attention_dim": 768}
    (folder / "condition_config.json").write_text(json.dumps([condition], indent=4))
    adapter = ConditionAdapter(condition)
    fill_synthetic(adapter)
    (folder / "condition_adapter_0").mkdir()
    (folder / "condition_adapter_0" / "config.json").write_text(json.dumps(condition, indent=4))
    torch.save(adapter.state_dict(), folder / "condition_adapter_0" / "condition_adapter.pt")
    (folder / "scheduler").mkdir()
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER_CONFIG, indent=2))
    vocoder_config = json.loads((configs / "vocoder-auffusion.json").read_text())
    vocoder = Generator(vocoder_config, normed=False)
    fill_synthetic(vocoder)
    (folder / "vocoder").mkdir()
    (folder / "vocoder" / "config.json").write_text(json.dumps(vocoder_config, indent=2))
    torch.save({"generator": vocoder.state_dict()}, folder / "vocoder" / "vocoder.pt")


def load_models(folder: pathlib.Path) -> tuple:
    """(tokenizer, text encoder, condition adapter, unet, vae, vocoder) of `folder`, in eval mode; torch
    runs on AUFFUSION_THREADS threads (default: every core), as the Swift CLI does."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import AutoTokenizer, CLIPTextModel
    sys.path.insert(0, str(HERE))
    from clip_fixtures import ConditionAdapter
    from vocoder_fixtures import Generator

    torch.set_num_threads(int(os.environ.get("AUFFUSION_THREADS", os.cpu_count() or 1)))
    tokenizer = AutoTokenizer.from_pretrained(folder / "text_encoder_0")
    encoder = CLIPTextModel.from_pretrained(folder / "text_encoder_0").eval()
    condition = json.loads((folder / "condition_config.json").read_text())[0]
    adapter = ConditionAdapter(condition).eval()
    adapter.load_state_dict(torch.load(folder / "condition_adapter_0" / "condition_adapter.pt"))
    unet = UNet2DConditionModel.from_pretrained(folder / "unet").eval()
    vae = AutoencoderKL.from_pretrained(folder / "vae").eval()
    vocoder = Generator(json.loads((folder / "vocoder" / "config.json").read_text()), normed=False).eval()
    vocoder.load_state_dict(torch.load(folder / "vocoder" / "vocoder.pt")["generator"])
    return tokenizer, encoder, adapter, unet, vae, vocoder


def decode(vae, latents):
    """The log-mel [256, 1024] of one prompt's latents [1, 4, 32, 128] (denormalize_spectrogram)."""
    import torch
    sys.path.insert(0, str(HERE))
    from pipeline_fixtures import LOG_HIGH, LOG_LOW

    image = (vae.decode(latents / vae.config.scaling_factor).sample / 2 + 0.5).clamp(0, 1)
    return torch.flip(image[0, 0], dims=[0]) * (LOG_HIGH - LOG_LOW) + LOG_LOW


def write_audio(vocoder, log_mel, output: pathlib.Path) -> None:
    """The vocoder's first 10 s of `log_mel`, as 16 kHz PCM_16."""
    import numpy as np
    import soundfile

    wave = vocoder(log_mel[None])[0, 0][:160000].numpy()
    soundfile.write(output, np.clip(wave, -1, 1), 16000, subtype="PCM_16")


def python_generate(folder: pathlib.Path, steps: int, scheduler_name: str, output: pathlib.Path) -> None:
    """The Python pipeline on `folder` (child-process entry)."""
    import diffusers
    import torch
    sys.path.insert(0, str(HERE))
    from pipeline_fixtures import SCHEDULER_CONFIG, embeddings

    tokenizer, encoder, adapter, unet, vae, vocoder = load_models(folder)
    scheduler = getattr(diffusers, SCHEDULERS[scheduler_name][1]).from_config(SCHEDULER_CONFIG)
    with torch.no_grad():
        cond = embeddings(tokenizer, encoder, adapter, PROMPT)
        context = torch.cat([torch.zeros_like(cond), cond])
        scheduler.set_timesteps(steps)
        latents = torch.randn([1, 4, 32, 128], generator=torch.Generator().manual_seed(0)) * scheduler.init_noise_sigma
        for t in scheduler.timesteps:
            eps = unet(scheduler.scale_model_input(torch.cat([latents] * 2), t), t, encoder_hidden_states=context).sample
            eps_uncond, eps_cond = eps.chunk(2)
            latents = scheduler.step(eps_uncond + 7.5 * (eps_cond - eps_uncond), t, latents).prev_sample
        write_audio(vocoder, decode(vae, latents), output)


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of `command`, from /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name, *command], check=True)
        seconds, kilobytes = report.read().split()
    return float(seconds), float(kilobytes) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swift-binary", type=pathlib.Path)
    parser.add_argument("--folder", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "auffusion-synthetic")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--scheduler", choices=sorted(SCHEDULERS), default="dpmpp")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, alternating; the fastest is kept")
    parser.add_argument("--exact-only", action="store_true", help="leave out the fast presets")
    parser.add_argument("--python-only", type=pathlib.Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.python_only:
        python_generate(arguments.folder, arguments.steps, arguments.scheduler, arguments.python_only)
        return
    if not arguments.folder.exists():
        print(f"writing the synthetic model folder {arguments.folder} (once)", file=sys.stderr)
        write_folder(arguments.folder)
    out = pathlib.Path(tempfile.mkdtemp())
    sys.path.insert(0, str(HERE))
    from cpu_features import has_bfloat16_products
    runs = SWIFT_RUNS[:1] if arguments.exact_only else SWIFT_RUNS
    if not has_bfloat16_products():
        print("this CPU has no bfloat16 dot products: the --products bfloat16 run is left out", file=sys.stderr)
        runs = [(name, flags) for name, flags in runs if "bfloat16" not in flags]
    commands = {name: [str(arguments.swift_binary), "generate", PROMPT, "--model", str(arguments.folder),
                       "-o", str(out / "swift.wav"), "--steps", str(arguments.steps), "--scheduler", arguments.scheduler,
                       "--seed", "0", "--quiet", *flags]
                for name, flags in runs}
    commands["python"] = [sys.executable, __file__, "--folder", str(arguments.folder), "--steps", str(arguments.steps),
                          "--scheduler", arguments.scheduler, "--python-only", str(out / "python.wav")]
    best: dict[str, tuple[float, float]] = {}
    load_at_start = os.getloadavg()[0]
    for _ in range(arguments.repeat):
        for name, command in commands.items():
            seconds, mebibytes = timed(command)
            print(f"{name}: {seconds:.1f} s, {mebibytes:.0f} MiB", file=sys.stderr)
            previous = best.get(name, (float("inf"), 0.0))
            best[name] = (min(previous[0], seconds), max(previous[1], mebibytes))
    python = best["python"]
    exact = best["swift exact"]
    print(f"\ngenerate 10 s, {SCHEDULERS[arguments.scheduler][0]} {arguments.steps} steps, full-size synthetic folder, "
          f"loading included, fastest of {arguments.repeat} (peak memory: the largest), load average {load_at_start:.1f} "
          f"at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"{'':26} | {'seconds':>8} | {'peak MiB':>8} | {'× python':>8} | {'× exact':>8}")
    for name, (seconds, mebibytes) in best.items():
        print(f"{name:26} | {seconds:8.1f} | {mebibytes:8.0f} | {seconds / python[0]:8.2f} | {seconds / exact[0]:8.2f}")
    print(f"{'memory ratio to python':26} | {'':8} | {exact[1] / python[1]:8.2f} |")


if __name__ == "__main__":
    main()
