#!/usr/bin/env python3
"""Times three edits of a 10 s clip, Swift beside Python, on the full-size model folder of bench_generate.py.

    python scripts/reference/bench_edits.py --swift-binary .build/release/auffusion \
        [--folder /tmp/auffusion-synthetic] [--steps 25] [--only transfer,inpaint,reweight]

A deterministic 10 s clip (three tones and seeded noise, 16 kHz PCM_16) is written to a temporary
folder, and the model folder once if it is missing (bench_generate.write_folder). Each edit then
runs as the Swift CLI and as its Python restatement on diffusers 0.18.2 + transformers, DPM-Solver++
at --steps steps, guidance 7.5, seed 0, each in a child process whose wall time and peak resident
memory /usr/bin/time reports (loading, VAE encode, decode and HiFi-GAN vocoder included):
  transfer 0.5  `auffusion transfer --strength 0.5`; editing_fixtures.run_case "transfer"
                (img2img, spec 7.3): the clip's posterior-mean latents noised to the middle of the
                schedule, the guided loop over its last half.
  inpaint 2 s   `auffusion inpaint --mask 4-6`; run_case "inpaint" (spec 7.4, strength 1): every
                step, with the clip's re-noised latents blended in outside the mask. The Swift CLI
                also crossfades the result into the clip; Python returns the decoded result.
  reweight      `auffusion reweight --weight rain=2`; Auffusion's prompt2prompt (spec 8) with
                p2p_fixtures' Reweight controller on every U-Net attention layer: the prompt twice,
                batch [uncond x 2, cond x 2], cross 0.8, self 0.4; both prompts decoded and vocoded.
The spec puts style transfer at strength s at about s x a generation's U-Net evaluations, so
`auffusion generate` with the same settings is timed too (Swift only) and the transfer compared
with it.
"""
import argparse
import pathlib
import sys
import tempfile

from bench_generate import PROMPT, decode, load_models, timed, write_audio, write_folder

STRENGTH, MASK, WORD, WEIGHT = 0.5, (4, 6), "rain", 2.0
MELS, CANVAS = 256, 1024  # Auffusion's image: mel bands x frames
EDITS = {"transfer": "transfer 0.5", "inpaint": "inpaint 2 s", "reweight": "reweight"}


def write_clip(path: pathlib.Path) -> None:
    """10 s of 16 kHz PCM_16: 440 Hz throughout, 1.2 kHz from 3 s, 3 kHz from 6 to 8 s, seeded noise."""
    import numpy as np
    import soundfile

    t = np.arange(160000) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1200 * t) * (t >= 3)
            + 0.2 * np.sin(2 * np.pi * 3000 * t) * ((t >= 6) & (t < 8))
            + 0.05 * np.random.default_rng(0).standard_normal(t.shape))
    soundfile.write(path, np.round(wave * 32767).astype(np.int16), 16000, subtype="PCM_16")


def swift_command(binary: pathlib.Path, command: str, clip: pathlib.Path, folder: pathlib.Path, steps: int,
                  output: pathlib.Path) -> list[str]:
    """`auffusion <command>` (an edit, or generate) with the benchmark's settings."""
    arguments = {"transfer": [str(clip), PROMPT, "--strength", str(STRENGTH)],
                 "inpaint": [str(clip), PROMPT, "--mask", f"{MASK[0]}-{MASK[1]}"],
                 "reweight": [PROMPT, "--weight", f"{WORD}={WEIGHT}", "--no-shared-noise"],
                 "generate": [PROMPT]}[command]
    return [str(binary), command, *arguments, "--model", str(folder), "--steps", str(steps), "--scheduler", "dpmpp",
            "--seed", "0", "-o", str(output), "--quiet"]


def python_reweight(tokenizer, unet, cond, steps: int):
    """The final latents [2, 4, 32, 128] of the source and the reweighted prompt."""
    import torch
    from diffusers import DPMSolverMultistepScheduler
    from editing_fixtures import denoise
    from p2p_fixtures import make_controller, register
    from pipeline_fixtures import SCHEDULER_CONFIG

    case = dict(prompts=[PROMPT, PROMPT], edit="reweight", cross=0.8, self=0.4, weights={WORD: WEIGHT})
    register(unet, make_controller(case, len(unet.attn_processors), tokenizer, steps))
    scheduler = DPMSolverMultistepScheduler.from_config(SCHEDULER_CONFIG)
    scheduler.set_timesteps(steps)
    latents = torch.randn([2, 4, MELS // 8, CANVAS // 8], generator=torch.Generator().manual_seed(0))
    context = torch.cat([torch.zeros_like(cond)] * 2 + [cond] * 2)
    return denoise(unet, scheduler, latents * scheduler.init_noise_sigma, scheduler.timesteps, context)


def python_edit(folder: pathlib.Path, steps: int, edit: str, clip: pathlib.Path, output: pathlib.Path) -> None:
    """One edit in Python on `folder` (child-process entry); reweight also writes the source prompt."""
    import soundfile
    import torch
    from diffusers import DPMSolverMultistepScheduler
    from editing_fixtures import clip_latents, run_case
    from pipeline_fixtures import embeddings

    tokenizer, encoder, adapter, unet, vae, vocoder = load_models(folder)
    with torch.no_grad():
        cond = embeddings(tokenizer, encoder, adapter, PROMPT)
        if edit == "reweight":
            latents = python_reweight(tokenizer, unet, cond, steps)
            write_audio(vocoder, decode(vae, latents[:1]), output.with_suffix(".source.wav"))
            write_audio(vocoder, decode(vae, latents[1:]), output)
            return
        samples, _ = soundfile.read(clip, dtype="int16")
        z0 = clip_latents(samples, vae, MELS, CANVAS)
        strength, ranges = (STRENGTH, []) if edit == "transfer" else (1.0, [MASK])
        log_mel = run_case(edit, strength, 0, ranges, z0, unet, vae, torch.cat([torch.zeros_like(cond), cond]),
                           steps, DPMSolverMultistepScheduler)
        write_audio(vocoder, log_mel, output)


def print_table(steps: int, rows: dict) -> None:
    """rows: edit -> ((swift s, swift MiB), (python s, python MiB))."""
    print(f"\nedits of a 10 s clip, DPM-Solver++ {steps} steps, guidance 7.5, seed 0, full-size synthetic folder, "
          "loading included")
    print(f"{'edit':12} | {'swift s':>8} | {'python s':>8} | {'ratio':>5} | {'swift MiB':>9} | {'python MiB':>10} | "
          f"{'ratio':>5}")
    for edit, (swift, python) in rows.items():
        print(f"{EDITS[edit]:12} | {swift[0]:8.1f} | {python[0]:8.1f} | {swift[0] / python[0]:5.2f} | "
              f"{swift[1]:9.0f} | {python[1]:10.0f} | {swift[1] / python[1]:5.2f}")


def edit_bench(description: str, default_steps: int, python_side, add_arguments=None):
    """The command line every benchmark of clip edits shares: parses it (with the options
    `add_arguments(parser)` adds); as a child process (--python-only EDIT CLIP OUTPUT) runs
    `python_side(folder, steps, edit, clip, output)` and returns None; otherwise writes the model
    folder once and the clip into a new folder and returns (arguments, that folder, the clip)."""
    parser = argparse.ArgumentParser(description=description)
    if add_arguments:
        add_arguments(parser)
    parser.add_argument("--swift-binary", type=pathlib.Path)
    parser.add_argument("--folder", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "auffusion-synthetic")
    parser.add_argument("--steps", type=int, default=default_steps)
    parser.add_argument("--python-only", nargs=3, metavar=("EDIT", "CLIP", "OUTPUT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.python_only:
        edit, clip, output = arguments.python_only
        python_side(arguments.folder, arguments.steps, edit, pathlib.Path(clip), pathlib.Path(output))
        return None
    if not arguments.folder.exists():
        print(f"writing the synthetic model folder {arguments.folder} (once)", file=sys.stderr)
        write_folder(arguments.folder)
    out = pathlib.Path(tempfile.mkdtemp())
    clip = out / "clip.wav"
    write_clip(clip)
    return arguments, out, clip


def main() -> None:
    def edits(text: str) -> list:
        unknown = [edit for edit in text.split(",") if edit not in EDITS]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown edit {', '.join(unknown)}; known: {', '.join(EDITS)}")
        return text.split(",")

    def only(parser):
        parser.add_argument("--only", type=edits, default=list(EDITS),
                            help=f"comma-separated edits to run (default: all of {', '.join(EDITS)})")
    bench = edit_bench(__doc__.splitlines()[0], 25, python_edit, only)
    if bench is None:
        return
    arguments, out, clip = bench
    rows = {}
    for edit in arguments.only:
        swift = timed(swift_command(arguments.swift_binary, edit, clip, arguments.folder, arguments.steps,
                                    out / f"swift-{edit}.wav"))
        python = timed([sys.executable, __file__, "--folder", str(arguments.folder), "--steps", str(arguments.steps),
                        "--python-only", edit, str(clip), str(out / f"python-{edit}.wav")])
        rows[edit] = swift, python
    generate = timed(swift_command(arguments.swift_binary, "generate", clip, arguments.folder, arguments.steps,
                                   out / "swift-generate.wav"))
    print_table(arguments.steps, rows)
    if "transfer" not in rows:
        return
    evaluations = min(int(arguments.steps * STRENGTH), arguments.steps)  # img2img get_timesteps, DPM-Solver++ order 1
    print(f"transfer 0.5 / generate (Swift, same steps): {rows['transfer'][0][0] / generate[0]:.2f} of the time "
          f"({rows['transfer'][0][0]:.1f} s / {generate[0]:.1f} s) for {evaluations} / {arguments.steps} "
          f"= {evaluations / arguments.steps:.2f} of the U-Net evaluations")


if __name__ == "__main__":
    main()
