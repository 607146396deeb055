#!/usr/bin/env python3
"""Times the PyTorch/librosa reference beside the Swift benchmark results, on this machine.

    python scripts/reference/bench.py --swift .bench-swift.json     # what `make bench` runs
    python scripts/reference/bench.py --write-clip clip.wav          # the 10 s benchmark clip

The Swift file looks like {"results": [{"name": "audio.analysis_10s", "seconds": 0.012}, ...]}.
For every name found in REFERENCES the matching reference is timed (one warm-up run, then the
median of --runs runs) with the same thread count as the Swift side: AUFFUSION_THREADS, else
os.cpu_count(). Names without a reference are listed as "no reference". To add one, write a
`setup(workdir) -> callable` function and register it in REFERENCES.
"""
import os

THREADS = int(os.environ.get("AUFFUSION_THREADS") or os.cpu_count() or 1)
# The BLAS/OpenMP runtimes read these once, when numpy and torch are first imported.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = str(THREADS)

import argparse
import importlib.util
import json
import pathlib
import statistics
import tempfile
import time
from typing import Callable

import librosa
import numpy as np
import soundfile
import torch

from audio_fixtures import (GRIFFIN_LIM_ITERATIONS, GRIFFIN_LIM_MOMENTUM, HOP, N_FFT, SAMPLE_RATE,
                            WIN, mel_filterbank, mel_spectrogram, quantize, scaled_waveform,
                            spectrogram_image)

# The benchmark clip: 10 s, 44.1 kHz, stereo, 16-bit PCM, a seeded mix of tones and noise that
# looks like speech on a spectrogram:
#   voice(t) = e(t) * sum_{k=1..24} sin(k * phi(t)) / k, with phi' = 2 pi f0(t),
#              f0(t) = 140 + 40 sin(2 pi 0.3 t) Hz and syllable envelope e(t) = (1 - cos(2 pi 4 t)) / 2
#   tones(t) = 0.05 sin(2 pi 440 t) + 0.05 sin(2 pi 2500 t)
#   left  = voice + tones + n_L,  right = 0.8 voice + tones + n_R,
#   n_L, n_R independent Gaussian noise, std 0.03, numpy default_rng(BENCH_SEED) (left drawn first)
# then both channels are scaled together to a peak of 0.8 and quantized as round(x * 32768).
BENCH_RATE = 44100
BENCH_SECONDS = 10
BENCH_SEED = 1234


def bench_clip() -> np.ndarray:
    """The benchmark clip described above as int16 samples, shape (441000, 2)."""
    t = np.arange(BENCH_RATE * BENCH_SECONDS) / BENCH_RATE
    f0 = 140.0 + 40.0 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / BENCH_RATE
    envelope = 0.5 * (1.0 - np.cos(2 * np.pi * 4.0 * t))
    voice = envelope * sum(np.sin(k * phase) / k for k in range(1, 25))
    tones = 0.05 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * np.sin(2 * np.pi * 2500.0 * t)
    rng = np.random.default_rng(BENCH_SEED)
    left = voice + tones + 0.03 * rng.standard_normal(len(t))
    right = 0.8 * voice + tones + 0.03 * rng.standard_normal(len(t))
    stereo = np.stack([left, right], axis=1)
    return quantize(0.8 * stereo / np.abs(stereo).max())


def write_bench_clip(path: pathlib.Path) -> None:
    """Writes the benchmark clip as a 16-bit PCM WAV file."""
    soundfile.write(path, bench_clip(), BENCH_RATE, subtype="PCM_16")


def resampler() -> str:
    """librosa resampling method: 'soxr_hq' when python-soxr is installed, else 'kaiser_best'."""
    return "soxr_hq" if importlib.util.find_spec("soxr") else "kaiser_best"


def analyse_file(path: pathlib.Path, mel_basis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """WAV file -> (log-mel [256, T], image [3, 256, T]): read, mix to mono, resample to 16 kHz,
    then the reference analysis and image mapping."""
    samples, rate = soundfile.read(path, dtype="int16", always_2d=True)
    mono = samples.mean(axis=1)
    mono = librosa.resample(mono, orig_sr=rate, target_sr=SAMPLE_RATE, res_type=resampler())
    log_mel = mel_spectrogram(scaled_waveform(mono), mel_basis)[0]
    return log_mel, spectrogram_image(log_mel)


def setup_analysis(workdir: pathlib.Path) -> Callable[[], object]:
    """audio.analysis_10s: the whole analysis of the 10 s 44.1 kHz stereo clip.

    The mel filterbank is built once, outside the timing (the Swift side caches it too).
    """
    path = workdir / "bench-clip.wav"
    write_bench_clip(path)
    mel_basis = torch.from_numpy(mel_filterbank())
    return lambda: analyse_file(path, mel_basis)


def setup_griffinlim(workdir: pathlib.Path) -> Callable[[], object]:
    """audio.griffinlim_32: librosa.griffinlim, 32 iterations, on the clip's 1025 x 1000 magnitude.

    The magnitude is max(0, pinv(mel basis) @ exp(log-mel)) of the benchmark clip, as in the
    Griffin-Lim fixtures.
    """
    path = workdir / "bench-clip.wav"
    write_bench_clip(path)
    filterbank = mel_filterbank()
    mel_pinv = np.linalg.pinv(filterbank.astype(np.float64)).astype(np.float32)
    log_mel, _ = analyse_file(path, torch.from_numpy(filterbank))
    linear = np.maximum(0.0, mel_pinv @ np.exp(log_mel.numpy())).astype(np.float32)
    assert linear.shape == (N_FFT // 2 + 1, SAMPLE_RATE * BENCH_SECONDS // HOP)
    return lambda: librosa.griffinlim(linear, n_iter=GRIFFIN_LIM_ITERATIONS, hop_length=HOP,
                                      win_length=WIN, n_fft=N_FFT, window="hann",
                                      momentum=GRIFFIN_LIM_MOMENTUM, init=None, length=None)


REFERENCES: dict[str, Callable[[pathlib.Path], Callable[[], object]]] = {
    "audio.analysis_10s": setup_analysis,
    "audio.griffinlim_32": setup_griffinlim,
}


def median_seconds(run: Callable[[], object], runs: int) -> float:
    """Median wall-clock time of `runs` calls of `run`, after one untimed warm-up call."""
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    """Prints `rows` under a header as a pipe-separated table with aligned columns."""
    rows = [("name", "swift ms", "reference ms", "ratio (swift/reference)")] + rows
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def main() -> None:
    """Parses the command line, times the references and prints the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swift", type=pathlib.Path, help="JSON results of `auffusion bench --json`")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per reference (default 5)")
    parser.add_argument("--write-clip", type=pathlib.Path, help="write the benchmark clip and exit")
    arguments = parser.parse_args()
    if arguments.write_clip:
        write_bench_clip(arguments.write_clip)
        return
    if not arguments.swift:
        parser.error("--swift FILE.json is required")

    torch.set_num_threads(THREADS)
    results = json.loads(arguments.swift.read_text())["results"]
    print(f"threads {THREADS}, torch {torch.__version__}, librosa {librosa.__version__}, "
          f"resampler {resampler()}, median of {arguments.runs} runs after a warm-up\n")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for result in results:
            name, swift_ms = result["name"], 1000.0 * result["seconds"]
            setup = REFERENCES.get(name)
            if setup is None:
                rows.append((name, f"{swift_ms:.2f}", "no reference", ""))
                continue
            reference_ms = 1000.0 * median_seconds(setup(pathlib.Path(folder)), arguments.runs)
            rows.append((name, f"{swift_ms:.2f}", f"{reference_ms:.2f}",
                         f"{swift_ms / reference_ms:.2f}"))
    print_table(rows)


if __name__ == "__main__":
    main()
