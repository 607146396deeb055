#!/usr/bin/env python3
"""Times edits and generations longer than the model's canvas, beside what the cropped edit cost.

    python scripts/reference/bench_long.py --swift-binary .build/release/auffusion [--full-size]

With the embedded model (canvas 2.56 s, 25 steps): a 60 s restyle (strength 0.5), one 1.5 s fill
of a 3-minute clip, and a 30 s generation; each beside the same command on the clip cropped to one
canvas (what an edit cost before windows, when it returned only that canvas). With --full-size,
also a 30 s restyle (10 steps) on bench_generate.py's synthetic full-size folder (canvas 10.24 s,
written once to /tmp, 4.3 GB) beside its 10.24 s crop. Each run is a child process whose wall time
and peak resident memory /usr/bin/time reports; loading the models is part of every time. The
clips are made here: bursts of a 255 Hz tone under a slow tremolo, 16 kHz mono.

The figures show that time grows with the windows denoised (reported by each run's --json) and
that peak memory does not grow with the length beyond the audio itself.

Then the window joins compared (docs/editing.md, "Long clips"): a 20 s restyle of the clip
(strength 0.6, "a high pitched sine tone", seed 100) and a 20 s generation ("a beep followed by
white noise", seed 101), with each --window-join, scored by `seams`: in blocks of 2048 samples
(one Hann-windowed FFT each), the spectral flux (mean absolute change of the log power of 16
log-spaced bands) and the level change between neighbouring blocks, both floored 50 dB below the
loudest block, averaged over the block boundaries nearest the window edges and over those more
than 0.3 s from every edge. A seam shows as an edge mean above the elsewhere mean.
"""
import math
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import wave

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def write_clip(path: pathlib.Path, seconds: float) -> None:
    """Bursts of a 255 Hz tone (110 ms every 330 ms) under a 0.3 Hz tremolo, 16 kHz mono."""
    t = np.arange(int(seconds * 16000)) / 16000
    gate = (t % 0.33) < 0.11
    x = gate * (0.2 + 0.1 * np.sin(2 * np.pi * 0.3 * t)) * np.sin(2 * np.pi * 255 * t)
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(16000)
        file.writeframes((x * 32767).astype("<i2").tobytes())


def timed(command: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, peak RSS MiB, the --json record) of `command`, from /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r") as report:
        result = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report.name, *command, "--json"],
                                check=True, capture_output=True, text=True)
        seconds, kilobytes = report.read().split()[-2:]
    return float(seconds), float(kilobytes) / 1024, json.loads(result.stdout.strip().splitlines()[-1])


def seams(path: pathlib.Path, edges: list[float]) -> dict:
    """Edge and elsewhere means of the spectral flux and the level change (see the docstring)."""
    with wave.open(str(path)) as file:
        x = np.frombuffer(file.readframes(file.getnframes()), "<i2").astype(float) / 32768
    block = 2048
    count = len(x) // block
    blocks = x[:count * block].reshape(count, block)
    power = np.abs(np.fft.rfft(blocks * np.hanning(block), axis=1)) ** 2
    bands = [int(4 * 220 ** (k / 16)) for k in range(17)]
    spectra = 10 * np.log10(np.stack([power[:, bands[k]:max(bands[k + 1], bands[k] + 1)].sum(axis=1)
                                      for k in range(16)], axis=1) + 1e-20)
    spectra = np.maximum(spectra, spectra.max() - 50)
    levels = 10 * np.log10((blocks ** 2).mean(axis=1) + 1e-20)
    levels = np.maximum(levels, levels.max() - 50)
    flux = np.abs(np.diff(spectra, axis=0)).mean(axis=1)
    level = np.abs(np.diff(levels))
    times = np.arange(1, count) * block / 16000
    distance = np.array([min(abs(t - edge) for edge in edges) for t in times])
    at, far = distance <= block / 16000 / 2, distance > 0.3
    return {"flux": (flux[at].mean(), flux[far].mean()), "level": (level[at].mean(), level[far].mean())}


def window_edges(seconds: float, canvas_frames: int = 256, factor: int = 8) -> list[float]:
    """Seconds of every inner window edge of a span of `seconds`, as LatentWindows places them."""
    span, width = math.ceil(seconds * 100 / 8) * 8 // factor, canvas_frames // factor
    overlap = width // 4
    count = math.ceil((span - overlap) / (width - overlap))
    offsets = [round(index * (span - width) / (count - 1)) for index in range(count)]
    edges = {offset * factor / 100 for offset in offsets[1:]} | {(offset + width) * factor / 100 for offset in offsets[:-1]}
    return sorted(edge for edge in edges if edge < seconds)


def compare_joins(binary: str, out: pathlib.Path) -> None:
    clip = out / "clip-20.wav"
    write_clip(clip, 20)
    edges = window_edges(20)
    print(f"\nwindow joins, 20 s, embedded model, 25 steps: mean dB at the {len(edges)} window edges / elsewhere")
    print(f"{'join':10} | {'restyle flux':>14} | {'restyle level':>14} | {'generate flux':>14} | {'generate level':>14}")
    for join in ("crossfade", "average", "swap"):
        common = ["--steps", "25", "--guidance", "5", "--window-join", join, "--no-peak-guard", "--quiet"]
        restyled, generated = out / f"restyle-{join}.wav", out / f"generate-{join}.wav"
        subprocess.run([binary, "transfer", str(clip), "a high pitched sine tone", "--strength", "0.6", "--seed", "100",
                        "-o", str(restyled), *common], check=True)
        subprocess.run([binary, "generate", "a beep followed by white noise", "--duration", "20", "--seed", "101",
                        "-o", str(generated), *common], check=True)
        a, b = seams(restyled, edges), seams(generated, edges)
        cells = [f"{pair[0]:5.2f} / {pair[1]:5.2f}" for pair in (a["flux"], a["level"], b["flux"], b["level"])]
        print(f"{join:10} | " + " | ".join(f"{cell:>14}" for cell in cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swift-binary", type=pathlib.Path, required=True)
    parser.add_argument("--full-size", action="store_true", help="also time a 30 s restyle on the synthetic full-size folder")
    parser.add_argument("--folder", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "auffusion-synthetic")
    parser.add_argument("--joins-only", action="store_true", help="only compare the window joins")
    arguments = parser.parse_args()
    out = pathlib.Path(tempfile.mkdtemp())
    binary = str(arguments.swift_binary)
    if arguments.joins_only:
        return compare_joins(binary, out)
    common = ["--steps", "25", "--seed", "0", "--no-peak-guard"]
    clips = {seconds: out / f"clip-{seconds}.wav" for seconds in (2.56, 10.24, 30, 60, 180)}
    for seconds, path in clips.items():
        write_clip(path, seconds)
    cases = [
        ("restyle 60 s", [binary, "transfer", str(clips[60]), "a high pitched sine tone", "--strength", "0.5", *common],
         [binary, "transfer", str(clips[2.56]), "a high pitched sine tone", "--strength", "0.5", *common]),
        ("fill 1.5 s of 3 min", [binary, "inpaint", str(clips[180]), "white noise", "--mask", "120-121.5", *common],
         [binary, "inpaint", str(clips[2.56]), "white noise", "--mask", "0.5-2", *common]),
        ("generate 30 s", [binary, "generate", "a beep followed by white noise", "--duration", "30", *common],
         [binary, "generate", "a beep followed by white noise", *common]),
    ]
    if arguments.full_size:
        if not arguments.folder.exists():
            sys.path.insert(0, str(HERE))
            from bench_generate import write_folder
            print(f"writing the synthetic model folder {arguments.folder} (once)", file=sys.stderr)
            write_folder(arguments.folder)
        full = ["--model", str(arguments.folder), "--steps", "10", "--scheduler", "dpmpp", "--seed", "0", "--no-peak-guard"]
        cases.append(("full-size restyle 30 s", [binary, "transfer", str(clips[30]), "rain on a tin roof", "--strength", "0.5", *full],
                      [binary, "transfer", str(clips[10.24]), "rain on a tin roof", "--strength", "0.5", *full]))
    print(f"{'case':24} | {'windows':>7} | {'seconds':>8} | {'peak MiB':>8} | {'cropped s':>9} | {'cropped MiB':>11} | {'time ratio':>10}")
    for index, (name, long, cropped) in enumerate(cases):
        long_time, long_memory, record = timed([*long, "-o", str(out / f"long-{index}.wav")])
        crop_time, crop_memory, _ = timed([*cropped, "-o", str(out / f"crop-{index}.wav")])
        windows = record.get("details", {}).get("windows", "—")
        print(f"{name:24} | {windows:>7} | {long_time:8.1f} | {long_memory:8.0f} | {crop_time:9.1f} | {crop_memory:11.0f} | "
              f"{long_time / crop_time:10.2f}", flush=True)
    compare_joins(binary, out)


if __name__ == "__main__":
    main()
