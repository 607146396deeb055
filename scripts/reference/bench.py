#!/usr/bin/env python3
"""Times the PyTorch/librosa reference beside the Swift benchmark results, on this machine.

    python scripts/reference/bench.py --swift .bench-swift.json     # what `make bench` runs
    python scripts/reference/bench.py --write-clip clip.wav          # the 10 s benchmark clip
    .venv-torch-current/bin/python scripts/reference/bench.py --swift .bench-swift.json --compute-only
                                                                     # the kernels beside the current PyTorch

The Swift file is the run record of `auffusion-bench --json` (docs/cli.md); its details hold
{"results": [{"name": "audio.analysis_10s", "seconds": 0.012}, ...]}.
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
import math
import pathlib
import statistics
import tempfile
import time
from typing import Callable

import numpy as np
import torch

try:  # the audio references; --compute-only runs without them (the current PyTorch's virtualenv has no librosa)
    import librosa
    import soundfile
    from audio_fixtures import (GRIFFIN_LIM_ITERATIONS, GRIFFIN_LIM_MOMENTUM, HOP, N_FFT, SAMPLE_RATE,
                                WIN, mel_filterbank, mel_spectrogram, quantize, scaled_waveform,
                                spectrogram_image)
except ModuleNotFoundError:
    librosa = None

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


def setup_analysis_16k(workdir: pathlib.Path) -> Callable[[], object]:
    """audio.analysis_10s_16k: the same clip already at 16 kHz mono (the rate Auffusion works at),
    so only reading, the STFT/mel analysis and the image mapping are timed."""
    path = workdir / "bench-clip-16k.wav"
    samples, rate = soundfile.read(workdir / "bench-clip.wav" if (workdir / "bench-clip.wav").exists()
                                   else _written_clip(workdir), dtype="int16", always_2d=True)
    mono = librosa.resample(samples.mean(axis=1), orig_sr=rate, target_sr=SAMPLE_RATE, res_type=resampler())
    soundfile.write(path, quantize(0.8 * mono / np.abs(mono).max()), SAMPLE_RATE, subtype="PCM_16")
    mel_basis = torch.from_numpy(mel_filterbank())

    def analyse() -> object:
        data, _ = soundfile.read(path, dtype="int16")
        log_mel = mel_spectrogram(scaled_waveform(data), mel_basis)[0]
        return spectrogram_image(log_mel)
    return analyse


def _written_clip(workdir: pathlib.Path) -> pathlib.Path:
    """Writes the 10 s benchmark clip into `workdir` and returns its path."""
    path = workdir / "bench-clip.wav"
    write_bench_clip(path)
    return path


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


def seeded(*shape: int, seed: int) -> torch.Tensor:
    """A float32 standard-normal tensor from its own seeded generator (benchmark inputs)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


SGEMM_N = 1024
CONV_SHAPE = (1, 320, 32, 128)   # the UNet's first level on a 256 x 1024 spectrogram (latents 32 x 128)
DEEP_CONV_SHAPE = (2, 1280, 8, 32)  # its deepest Winograd level, batch 2 as guidance runs it
ATTENTION_SHAPE = (1, 8, 4096, 40)  # batch, heads, tokens (32 x 128), head size
LINEAR_SHAPES = {  # (tokens of a batch item, in, out), batch 2 as guidance runs it: the top level's (4096
    # tokens) projection, its feed-forward's GEGLU input and output; the GEGLU inputs of the 640- and
    # 1280-channel levels (1024 and 256 tokens) and the deepest one's output
    "compute.linear_320": (4096, 320, 320),
    "compute.linear_320_2560": (4096, 320, 2560),
    "compute.linear_1280_320": (4096, 1280, 320),
    "compute.linear_640_5120": (1024, 640, 5120),
    "compute.linear_1280_10240": (256, 1280, 10240),
    "compute.linear_5120_1280": (256, 5120, 1280),
}


def setup_sgemm(workdir: pathlib.Path) -> Callable[[], object]:
    """compute.sgemm_1024: torch.mm of two 1024 x 1024 float32 matrices."""
    a, b = seeded(SGEMM_N, SGEMM_N, seed=1), seeded(SGEMM_N, SGEMM_N, seed=2)
    return lambda: torch.mm(a, b)


def setup_conv2d(workdir: pathlib.Path) -> Callable[[], object]:
    """compute.conv2d_3x3: F.conv2d, x (1, 320, 32, 128), weight (320, 320, 3, 3), bias, padding 1."""
    channels = CONV_SHAPE[1]
    x = seeded(*CONV_SHAPE, seed=3)
    weight, bias = 0.02 * seeded(channels, channels, 3, 3, seed=4), seeded(channels, seed=5)
    return lambda: torch.nn.functional.conv2d(x, weight, bias, padding=1)


def setup_deep_conv2d(workdir: pathlib.Path) -> Callable[[], object]:
    """compute.conv2d_3x3_deep_*: F.conv2d, x (2, 1280, 8, 32), weight (1280, 1280, 3, 3), bias, padding 1."""
    channels = DEEP_CONV_SHAPE[1]
    x = seeded(*DEEP_CONV_SHAPE, seed=12)
    weight, bias = 0.01 * seeded(channels, channels, 3, 3, seed=13), seeded(channels, seed=14)
    return lambda: torch.nn.functional.conv2d(x, weight, bias, padding=1)


def setup_attention(workdir: pathlib.Path) -> Callable[[], object]:
    """compute.attention: F.scaled_dot_product_attention (softmax(q k^T / sqrt(40)) v), 8 heads,
    4096 tokens, head size 40, batch 1 (torch 2.0.1 runs its math path on the CPU)."""
    q, k, v = (seeded(*ATTENTION_SHAPE, seed=seed) for seed in (6, 7, 8))
    return lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v)


def setup_linear(name: str) -> Callable[[pathlib.Path], Callable[[], object]]:
    """compute.linear_*: F.linear with a bias over (2, tokens, in) inputs, the shapes of LINEAR_SHAPES."""
    tokens, inputs, outputs = LINEAR_SHAPES[name]

    def setup(workdir: pathlib.Path) -> Callable[[], object]:
        x = seeded(2, tokens, inputs, seed=15)
        weight, bias = 0.05 * seeded(outputs, inputs, seed=16), seeded(outputs, seed=17)
        return lambda: torch.nn.functional.linear(x, weight, bias)
    return setup


def setup_groupnorm(workdir: pathlib.Path) -> Callable[[], object]:
    """compute.groupnorm: F.group_norm, x (1, 320, 32, 128), 32 groups, eps 1e-6, affine."""
    channels = CONV_SHAPE[1]
    x = seeded(*CONV_SHAPE, seed=9)
    weight, bias = seeded(channels, seed=10), seeded(channels, seed=11)
    return lambda: torch.nn.functional.group_norm(x, 32, weight, bias, eps=1e-6)


REFERENCES: dict[str, Callable[[pathlib.Path], Callable[[], object]]] = {
    "audio.analysis_10s": setup_analysis,
    "audio.analysis_10s_16k": setup_analysis_16k,
    "audio.griffinlim_32": setup_griffinlim,
    "compute.sgemm_1024": setup_sgemm,
    "compute.conv2d_3x3": setup_conv2d,
    "compute.conv2d_3x3_winograd": setup_conv2d,   # the same convolution; Swift's Winograd F(2x2, 3x3)
    "compute.conv2d_3x3_winograd4x4": setup_conv2d,  # and F(4x4, 3x3) (the U-Net's)
    "compute.conv2d_3x3_deep_winograd": setup_deep_conv2d,
    "compute.conv2d_3x3_deep_winograd4x4": setup_deep_conv2d,
    "compute.attention": setup_attention,
    "compute.attention_tokens": setup_attention,  # the same attention; Swift reads [B, N, H·D] in place
    "compute.groupnorm": setup_groupnorm,
    **{name: setup_linear(name) for name in LINEAR_SHAPES},
}

# Floating-point operations of one call (a multiply-add counts 2), for the GFLOP/s lines.
_B, _H, _N, _D = ATTENTION_SHAPE
FLOPS: dict[str, int] = {
    "compute.sgemm_1024": 2 * SGEMM_N ** 3,
    "compute.conv2d_3x3": 2 * CONV_SHAPE[1] * CONV_SHAPE[1] * 9 * CONV_SHAPE[2] * CONV_SHAPE[3],
    "compute.conv2d_3x3_winograd": 2 * CONV_SHAPE[1] * CONV_SHAPE[1] * 9 * CONV_SHAPE[2] * CONV_SHAPE[3],
    "compute.conv2d_3x3_winograd4x4": 2 * CONV_SHAPE[1] * CONV_SHAPE[1] * 9 * CONV_SHAPE[2] * CONV_SHAPE[3],
    "compute.conv2d_3x3_deep_winograd": 2 * math.prod(DEEP_CONV_SHAPE) * DEEP_CONV_SHAPE[1] * 9,
    "compute.conv2d_3x3_deep_winograd4x4": 2 * math.prod(DEEP_CONV_SHAPE) * DEEP_CONV_SHAPE[1] * 9,
    "compute.attention": 2 * 2 * _B * _H * _N * _N * _D,  # q k^T and p v; the softmax is not counted
    "compute.attention_tokens": 2 * 2 * _B * _H * _N * _N * _D,
    **{name: 2 * 2 * tokens * inputs * outputs for name, (tokens, inputs, outputs) in LINEAR_SHAPES.items()},
}


def cpu_fp32_peak(threads: int) -> tuple[str, float | None]:
    """An estimate of the fp32 peak of `threads` cores: (a line giving the formula, GFLOP/s or None).

    cores x GHz x FLOPs/cycle, with GHz the maximum boost clock from cpufreq when the kernel exposes
    it, else the largest "cpu MHz" in /proc/cpuinfo (the current or, under a hypervisor, nominal
    clock: boost can beat the estimate), and FLOPs/cycle from the SIMD flags (FMA units x lanes x 2).
    """
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return "fp32 peak: unknown (no /proc/cpuinfo on this system)", None
    fields: dict[str, str] = {}
    megahertz, cores = [], set()
    for block in text.strip().split("\n\n"):
        entry = dict((key.strip(), value.strip()) for key, _, value in
                     (line.partition(":") for line in block.splitlines()))
        fields = fields or entry
        if "cpu MHz" in entry:
            megahertz.append(float(entry["cpu MHz"]))
        if "processor" in entry:  # one physical core per (package, core id), else per logical CPU
            cores.add((entry.get("physical id"), entry["core id"]) if "core id" in entry
                      else entry["processor"])
    flags = set(fields.get("flags", "").split())
    if not megahertz:
        return "fp32 peak: unknown (no 'cpu MHz' in /proc/cpuinfo)", None
    amd = fields.get("vendor_id") == "AuthenticAMD"
    family = int(fields.get("cpu family", "0"))
    if "avx512f" in flags and amd and family == 25:
        per_cycle, why = 32, "Zen 4: 2 FMA pipes x 8 fp32 lanes x 2, AVX-512 runs as two 256-bit halves"
    elif "avx512f" in flags:
        per_cycle, why = 64, "AVX-512: 2 FMA units x 16 fp32 lanes x 2 (parts with one FMA unit: half)"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, why = 32, "AVX2 + FMA: 2 FMA units x 8 fp32 lanes x 2"
    elif "avx" in flags:
        per_cycle, why = 16, "AVX: 1 add + 1 multiply x 8 fp32 lanes"
    else:
        per_cycle, why = 8, "SSE: 1 add + 1 multiply x 4 fp32 lanes"
    used = min(threads, len(cores))
    try:
        boost_khz = pathlib.Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()
        gigahertz, clock = int(boost_khz) / 1e6, "max boost clock from cpufreq"
    except (OSError, ValueError):
        gigahertz = max(megahertz) / 1000.0
        clock = "clock from /proc/cpuinfo 'cpu MHz', boost can exceed it"
    peak = used * gigahertz * per_cycle
    return (f"fp32 peak ~ {used} cores x {gigahertz:.3f} GHz x {per_cycle} FLOP/cycle = {peak:.1f} GFLOP/s "
            f"({why}; {fields.get('model name', '?')}, family {family}; {clock})"), peak


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
    parser.add_argument("--swift", type=pathlib.Path, help="JSON results of `auffusion-bench --json`")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per reference (default 5)")
    parser.add_argument("--write-clip", type=pathlib.Path, help="write the benchmark clip and exit")
    parser.add_argument("--compute-only", action="store_true",
                        help="time only the compute kernels' references (torch alone, e.g. the current release)")
    arguments = parser.parse_args()
    if librosa is None and not arguments.compute_only:
        parser.error("librosa is not installed here: use the reference virtualenv, or --compute-only")
    if arguments.write_clip:
        write_bench_clip(arguments.write_clip)
        return
    if not arguments.swift:
        parser.error("--swift FILE.json is required")

    torch.set_num_threads(THREADS)
    results = json.loads(arguments.swift.read_text())["details"]["results"]
    audio = "" if arguments.compute_only else f"librosa {librosa.__version__}, resampler {resampler()}, "
    print(f"threads {THREADS}, torch {torch.__version__}, {audio}median of {arguments.runs} runs after a warm-up\n")
    rows, throughput = [], []
    with tempfile.TemporaryDirectory() as folder:
        for result in results:
            name, swift_ms = result["name"], 1000.0 * result["seconds"]
            if arguments.compute_only and not name.startswith("compute."):
                continue
            setup = REFERENCES.get(name)
            if setup is None:
                rows.append((name, f"{swift_ms:.2f}", "no reference", ""))
                continue
            reference_ms = 1000.0 * median_seconds(setup(pathlib.Path(folder)), arguments.runs)
            rows.append((name, f"{swift_ms:.2f}", f"{reference_ms:.2f}",
                         f"{swift_ms / reference_ms:.2f}"))
            if name in FLOPS:
                throughput.append((name, FLOPS[name] / swift_ms / 1e6, FLOPS[name] / reference_ms / 1e6))
    print_table(rows)
    if throughput:
        text, peak = cpu_fp32_peak(THREADS)
        print()
        for name, swift_gflops, reference_gflops in throughput:
            share = (f"  ({100 * swift_gflops / peak:.0f}% / {100 * reference_gflops / peak:.0f}% of peak)"
                     if peak else "")
            print(f"{name}: swift {swift_gflops:.1f} GFLOP/s, reference {reference_gflops:.1f} GFLOP/s"
                  f"{share}")
        print(text)


if __name__ == "__main__":
    main()
