#!/usr/bin/env python3
"""Times inversions and the edits that start from them on a 10 s clip, Swift beside the Python restatements.

    python scripts/reference/bench_inversion.py --swift-binary .build/release/auffusion \
        [--folder /tmp/auffusion-synthetic] [--steps 10]

On bench_generate.py's full-size synthetic folder (written once if missing) and bench_edits.py's 10 s
clip, each run a child process whose wall time and peak resident memory /usr/bin/time reports
(loading, VAE encode, decode and vocoding included), N = --steps:
  swap ddim     `auffusion swap SOURCE TARGET --from clip --steps N --source-output`: DDIM inversion
                of the clip under the source prompt (N evaluations of one prompt), then the Direct
                Inversion word swap (N guided steps of both prompts, batch 4), both prompts decoded
                and vocoded. Python: inversion_fixtures.ddim_case (the same algorithm, as PnP
                Inversion's code runs it) with the folder's condition adapter, both prompts decoded
                and vocoded.
  transfer ddpm `auffusion transfer clip TARGET --start ddpm --source-prompt SOURCE --steps 2N
                --strength 0.5`: ZETA's edit-friendly DDPM inversion of the last N of 2N steps at
                source guidance 3 (2 evaluations per step), then its text-based edit at guidance 12
                (batch 2). Python: inversion_fixtures.ddpm_case, as ZETA's code runs it.
  invert        `auffusion invert` alone, for each method with the settings above (Swift only), and
                the size of the file it writes: what a saved inversion saves every later edit.
  generate      `auffusion generate --steps N --scheduler ddim` (Swift only): the cost of a plain
                generation of as many steps, beside which the edits are read.
"""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_edits import edit_bench                                              # noqa: E402
from bench_generate import load_models, timed, write_audio                         # noqa: E402

SOURCE, TARGET = "a dog barking in the rain", "a cat barking in the rain"
SELF_REPLACE = 0.4


def swift_commands(binary: pathlib.Path, folder: pathlib.Path, clip: pathlib.Path, steps: int, out: pathlib.Path) -> dict:
    common = ["--model", str(folder), "--quiet"]
    return {
        "swap ddim": [str(binary), "swap", SOURCE, TARGET, "--from", str(clip), "--steps", str(steps),
                      "--source-output", str(out / "swap-source.wav"), "-o", str(out / "swap.wav"), *common],
        "transfer ddpm": [str(binary), "transfer", str(clip), TARGET, "--start", "ddpm", "--source-prompt", SOURCE,
                          "--steps", str(2 * steps), "--strength", "0.5", "-o", str(out / "zeta.wav"), *common],
        "invert ddim": [str(binary), "invert", str(clip), "--prompt", SOURCE, "--steps", str(steps),
                        "-o", str(out / "ddim.inversion"), *common],
        "invert ddpm": [str(binary), "invert", str(clip), "--method", "ddpm", "--prompt", SOURCE, "--steps", str(2 * steps),
                        "--strength", "0.5", "-o", str(out / "ddpm.inversion"), *common],
        "generate": [str(binary), "generate", TARGET, "--steps", str(steps), "--scheduler", "ddim",
                     "-o", str(out / "generate.wav"), *common],
    }


def python_edit(folder: pathlib.Path, steps: int, edit: str, clip: pathlib.Path, output: pathlib.Path) -> None:
    """One edit as the restatement runs it (child-process entry)."""
    import soundfile
    import torch
    from editing_fixtures import clip_latents
    from inversion_fixtures import ddim_case, ddpm_case

    tokenizer, encoder, adapter, unet, vae, vocoder = load_models(folder)
    samples, _ = soundfile.read(clip, dtype="int16")
    with torch.no_grad():
        z0 = clip_latents(samples, vae, 256, 1024)
        models = (tokenizer, encoder, unet, vae)
        if edit == "swap ddim":
            case = dict(source=SOURCE, target=TARGET, steps=steps, source_guidance=1.0, target_guidance=7.5,
                        cross=0.8, self=SELF_REPLACE)
            mels = ddim_case(case, models, z0, adapter)["mel"]
            write_audio(vocoder, mels[0], output.with_suffix(".source.wav"))
            write_audio(vocoder, mels[1], output)
        else:
            case = dict(source=SOURCE, target=TARGET, steps=2 * steps, start=steps, source_guidance=3.0,
                        target_guidance=12.0, seed=0)
            write_audio(vocoder, ddpm_case(case, models, z0, adapter)["mel"], output)


def main() -> None:
    bench = edit_bench(__doc__.splitlines()[0], 10, python_edit)
    if bench is None:
        return
    arguments, out, clip = bench
    swift = {name: timed(command) for name, command in
             swift_commands(arguments.swift_binary, arguments.folder, clip, arguments.steps, out).items()}
    python = {edit: timed([sys.executable, __file__, "--folder", str(arguments.folder), "--steps", str(arguments.steps),
                           "--python-only", edit, str(clip), str(out / f"python-{edit.replace(' ', '-')}.wav")])
              for edit in ("swap ddim", "transfer ddpm")}
    generate = swift["generate"][0]
    print(f"\ninversion on a 10 s clip, N = {arguments.steps}, full-size synthetic folder, loading included")
    print(f"{'run':14} | {'swift s':>8} | {'python s':>8} | {'ratio':>5} | {'swift MiB':>9} | {'python MiB':>10} | "
          f"{'ratio':>5} | {'/ generate':>10}")
    for name, (seconds, mib) in swift.items():
        peer = python.get(name)
        cells = (f"{peer[0]:8.1f} | {seconds / peer[0]:5.2f} | {mib:9.0f} | {peer[1]:10.0f} | {mib / peer[1]:5.2f}" if peer
                 else f"{'-':>8} | {'-':>5} | {mib:9.0f} | {'-':>10} | {'-':>5}")
        print(f"{name:14} | {seconds:8.1f} | {cells} | {seconds / generate:10.2f}")
    for method in ("ddim", "ddpm"):
        size = (out / f"{method}.inversion").stat().st_size
        print(f"{method} inversion file: {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
