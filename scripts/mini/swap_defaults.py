"""How well the command line's defaults for a word swap on a clip keep the clip, on clips held out
from the tests: the measure behind `ReplaceSchedule.defaults(fromInversion:)` (docs/editing.md,
"Inversion").

    python scripts/mini/swap_defaults.py .build/release/auffusion [--seeds 300-319] [NAME="--cross-replace 0.97" ...] (flags split as a shell would)

`InversionMeaningTests` checks the defaults on its own ten clips (seeds 100-109, four 200 Hz
bursts). Choosing a default on the clips that test it would fit the test, so the defaults are
chosen here instead, on twenty other clips: seeds 300-319, 3-5 square-wave bursts of 0.12-0.3 s
at a seeded frequency in 150-260 Hz, 2.56 s at 16 kHz. Each clip goes through
`auffusion swap "a low pitched beep" "a high pitched beep" --from CLIP` (the embedded model, the
defaults, plus each variant's extra flags) and is scored as the tests score it: the correlation of
the 20 ms dB envelope with the clip's (timing) and the dominant frequency (the swap). The first
variant also writes the source prompt's output, the reconstruction the swap cannot beat.
`--seeds` draws another set of clips the same way (400-419 is the fresh set the chosen default was
checked on once, after the choice). Needs numpy only.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

RATE = 16_000
LENGTH = 40_960
SEEDS = range(300, 320)
MASK = (1 << 64) - 1


class SplitMix64:
    """Uniform numbers in [0, 1), the generator the Swift tests place their bursts with."""

    def __init__(self, seed: int) -> None:
        self.state = seed

    def next(self) -> float:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return ((z ^ (z >> 31)) >> 11) / float(1 << 53)


def held_out_clip(seed: int) -> np.ndarray:
    """3-5 square-wave bursts at one seeded frequency, one per equal slot of the clip."""
    random = SplitMix64(seed)
    frequency = 150 + 110 * random.next()
    count = 3 + int(3 * random.next())
    samples = np.zeros(LENGTH)
    slot = LENGTH / count
    for index in range(count):
        length = int((0.12 + 0.18 * random.next()) * RATE)
        start = int(index * slot + 0.03 * RATE + random.next() * (slot - length - 0.06 * RATE))
        span = np.arange(max(start, 0), min(start + length, LENGTH))
        samples[span] = np.where(np.sin(2 * np.pi * frequency * span / RATE) >= 0, 0.4, -0.4)
    return samples


def write(path: Path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(RATE)
        file.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as file:
        return np.frombuffer(file.readframes(file.getnframes()), "<i2") / 32767.0


def envelope(samples: np.ndarray, window: int = 320, floor: float = -60) -> np.ndarray:
    """20 ms RMS levels in dB of the loudest, floored at -60 dB."""
    count = len(samples) // window
    levels = np.sqrt((samples[: count * window].reshape(count, window) ** 2).mean(1))
    return np.maximum(floor, 20 * np.log10(np.maximum(levels, 1e-300) / levels.max()))


def timing(clip: np.ndarray, edited: np.ndarray) -> float:
    a, b = envelope(clip), envelope(edited)
    count = min(len(a), len(b))
    return float(np.corrcoef(a[:count], b[:count])[0, 1])


def dominant_frequency(samples: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    frequencies = np.fft.rfftfreq(len(samples), 1 / RATE)
    band = (frequencies > 50) & (frequencies < 7900)
    return float(frequencies[band][np.argmax(power[band])])


def main() -> None:
    binary, *variant_arguments = sys.argv[1:]
    seeds = SEEDS
    if variant_arguments[:1] == ["--seeds"]:
        first, last = map(int, variant_arguments[1].split("-"))
        seeds, variant_arguments = range(first, last + 1), variant_arguments[2:]
    variants = {"default": []} | {name: shlex.split(flags) for name, flags in (a.split("=", 1) for a in variant_arguments)}
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    reconstruction: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for seed in seeds:
            clip = held_out_clip(seed)
            source = work / f"clip{seed}.wav"
            write(source, clip)
            for index, (name, flags) in enumerate(variants.items()):
                output = work / f"{name}-{seed}.wav"
                extra = ["--source-output", str(work / f"source-{seed}.wav")] if index == 0 else []
                subprocess.run([binary, "swap", "a low pitched beep", "a high pitched beep", "--from", str(source), "-o", str(output),
                                "--quiet", "--seed", str(seed), *extra, *flags], check=True)
                edited = read(output)
                scores[name].append((timing(clip, edited), dominant_frequency(edited)))
            reconstruction.append(timing(clip, read(work / f"source-{seed}.wav")))
            print(seed, " ".join(f"{name} {s[-1][0]:.2f}/{s[-1][1]:.0f} Hz" for name, s in scores.items()),
                  f"source {reconstruction[-1]:.2f}", flush=True)
    count = len(seeds)
    print(f"source prompt (reconstruction): timing {min(reconstruction):.2f}-{max(reconstruction):.2f}, "
          f"median {np.median(reconstruction):.2f}, >= 0.8 in {sum(t >= 0.8 for t in reconstruction)}/{count}")
    for name, rows in scores.items():
        timings = [t for t, _ in rows]
        print(f"{name}: timing {min(timings):.2f}-{max(timings):.2f}, median {np.median(timings):.2f}, "
              f">= 0.8 in {sum(t >= 0.8 for t in timings)}/{count}; beeps above 1 kHz in {sum(f > 1000 for _, f in rows)}/{count}; "
              f"both in {sum(t >= 0.8 and f > 1000 for t, f in rows)}/{count}")


if __name__ == "__main__":
    main()
