#!/usr/bin/env python3
"""The "fewer steps" preset measured: how far UniPC and DPM-Solver++ at 10-15 steps land from the exact
run, and what they save on a full-size 10 s generation.

    python scripts/reference/bench_fewer_steps.py --swift-binary .build/release/auffusion \
        [--part quality|time|both] [--seeds 10-19] [--folder /tmp/auffusion-synthetic] [--python]

Quality (the embedded model, docs/mini-model.md; random weights cannot judge a sampler): for each
seed and prompt, `auffusion generate` with guidance 5 writes the log-mel that went into the vocoder
(--save-mel). The exact run is the model's own sampler (its folder's PNDM) at the command line's
default 100 steps. The mel distance of a run to it is the mean over all mel cells of
|20·log10(e)·(ln a − ln b)|: the mean absolute difference of the two log-mel spectrograms in dB.
Beside each preset stand two anchors: PNDM at 25 steps (the tests of meaning's setting), and the
distance between the exact runs of two different seeds of one prompt (what unrelated outputs of
the same words differ by).

Time (the full-size synthetic folder of bench_generate.py, if it exists): the same 10 s generation
as `make bench-generate` (one prompt, guidance 7.5, seed 0, loading included) by the Swift CLI with
UniPC at 15 steps and with DPM-Solver++ at 25 steps (bench-generate's setting), in one run; with
--python also the Python pipeline with each (about 12 minutes more).
"""
import argparse
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_generate  # noqa: E402

PROMPTS = ["a high pitched sine tone", "a beep followed by white noise", "a low pitched beep and quiet white noise"]
EXACT = ("pndm", 100)
RUNS = [("pndm", 25), ("dpmpp", 25), ("unipc", 25), ("dpmpp", 15), ("unipc", 15), ("dpmpp", 10), ("unipc", 10)]
DECIBELS_PER_NEPER = 20 / math.log(10)


def seeds(text: str) -> list[int]:
    """`10-19` or `1,2,5`."""
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(part) for part in text.split(",")]


def log_mel(binary: pathlib.Path, prompt: str, seed: int, scheduler: str, steps: int, out: pathlib.Path) -> np.ndarray:
    """The embedded model's log-mel for one run (natural log, mels × frames)."""
    mel = out / "mel.npy"
    subprocess.run([str(binary), "generate", prompt, "-o", str(out / "out.wav"), "--save-mel", str(mel),
                    "--steps", str(steps), "--scheduler", scheduler, "--guidance", "5", "--seed", str(seed),
                    "--no-peak-guard", "--quiet"], check=True)
    return np.load(mel).astype(np.float64)


def mel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute log-mel difference in dB."""
    return float(np.mean(np.abs(a - b)) * DECIBELS_PER_NEPER)


def quality(binary: pathlib.Path, seed_list: list[int]) -> None:
    out = pathlib.Path(tempfile.mkdtemp())
    distances = {run: [] for run in RUNS}
    across_seeds = []
    for prompt in PROMPTS:
        exact = {seed: log_mel(binary, prompt, seed, *EXACT, out) for seed in seed_list}
        across_seeds += [mel_distance(exact[a], exact[b]) for a, b in zip(seed_list, seed_list[1:])]
        for seed in seed_list:
            for run in RUNS:
                distances[run].append(mel_distance(log_mel(binary, prompt, seed, *run, out), exact[seed]))
    print(f"\nmel distance to the exact run ({EXACT[0]}, {EXACT[1]} steps), embedded model, guidance 5, "
          f"{len(PROMPTS)} prompts x seeds {seed_list[0]}..{seed_list[-1]}: mean absolute log-mel difference, dB")
    print(f"{'sampler':8} | {'steps':>5} | {'mean':>6} | {'median':>6} | {'max':>6}")
    for (scheduler, steps), values in distances.items():
        print(f"{scheduler:8} | {steps:5d} | {np.mean(values):6.2f} | {np.median(values):6.2f} | {np.max(values):6.2f}")
    print(f"{'seeds':8} | {EXACT[1]:5d} | {np.mean(across_seeds):6.2f} | {np.median(across_seeds):6.2f} | "
          f"{np.max(across_seeds):6.2f}   (exact runs of consecutive seeds, same prompt)")


def timing(binary: pathlib.Path, folder: pathlib.Path, with_python: bool) -> None:
    out = pathlib.Path(tempfile.mkdtemp())
    rows = []
    for scheduler, steps in [("dpmpp", 25), ("unipc", 15)]:
        swift = bench_generate.timed([str(binary), "generate", bench_generate.PROMPT, "--model", str(folder),
                                      "-o", str(out / "swift.wav"), "--steps", str(steps), "--scheduler", scheduler,
                                      "--seed", "0", "--quiet"])
        python = None
        if with_python:
            python = bench_generate.timed([sys.executable, bench_generate.__file__, "--folder", str(folder),
                                           "--steps", str(steps), "--scheduler", scheduler,
                                           "--python-only", str(out / "python.wav")])
        rows.append((scheduler, steps, swift, python))
    print(f"\ngenerate 10 s, full-size synthetic folder, loading included (seconds, peak MiB)")
    print(f"{'sampler':8} | {'steps':>5} | {'swift s':>8} | {'swift MiB':>9} | {'python s':>8} | {'ratio':>5}")
    for scheduler, steps, swift, python in rows:
        python_text = f"{python[0]:8.1f} | {swift[0] / python[0]:5.2f}" if python else f"{'-':>8} | {'-':>5}"
        print(f"{scheduler:8} | {steps:5d} | {swift[0]:8.1f} | {swift[1]:9.0f} | {python_text}")
    print(f"unipc 15 / dpmpp 25, swift: {rows[1][2][0] / rows[0][2][0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swift-binary", type=pathlib.Path, required=True)
    parser.add_argument("--seeds", default="10-19")
    parser.add_argument("--folder", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "auffusion-synthetic")
    parser.add_argument("--part", choices=["quality", "time", "both"], default="both")
    parser.add_argument("--python", action="store_true", help="also time the Python pipeline")
    arguments = parser.parse_args()
    if arguments.part != "time":
        quality(arguments.swift_binary, seeds(arguments.seeds))
    if arguments.part == "quality":
        return
    if not arguments.folder.exists():
        print(f"\n{arguments.folder} does not exist (make bench-generate writes it): timing skipped")
        return
    timing(arguments.swift_binary, arguments.folder, arguments.python)


if __name__ == "__main__":
    main()
