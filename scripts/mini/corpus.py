"""The synthetic captioned sound corpus of the embedded model (docs/mini-model.md).

Every clip is drawn from a small grammar and its caption is generated from the same parameters,
so each caption is exactly true of its clip:

    clip     := scene | scene " followed by " scene | scene " and " scene
    scene    := tonal | noise
    tonal    := "a " [pitch " pitched "] ("sine tone" | "beep")
    noise    := "white noise" | "pink noise"
    pitch    := "low" (120-300 Hz) | "medium" (400-900 Hz) | "high" (1500-3500 Hz)

A "beep" is a train of short tone bursts (80-200 ms every 250-500 ms) over its whole segment;
"followed by" splits the clip at 40-60 % of its length; "and" mixes both scenes over the whole
clip at relative levels of 0 to -10 dB. Pitch is omitted from a caption one time in four (the
tone then has any of the three ranges). Clips are 2.56 s of 16 kHz mono, seeded by index.
"""
from __future__ import annotations

import dataclasses

import numpy as np

SAMPLE_RATE = 16000
CLIP_SAMPLES = 40960          # 2.56 s = 256 spectrogram frames at a hop of 160
PITCH_RANGES = {"low": (120.0, 300.0), "medium": (400.0, 900.0), "high": (1500.0, 3500.0)}
TONAL = ("sine tone", "beep")
NOISES = ("white noise", "pink noise")
FADE_SECONDS = 0.005


@dataclasses.dataclass(frozen=True)
class Scene:
    """One sound source and what its caption says about it."""
    source: str                 # "sine tone", "beep", "white noise" or "pink noise"
    frequency: float = 0.0      # Hz, tonal sources only
    pitch_word: str | None = None

    @property
    def caption(self) -> str:
        if self.source in NOISES:
            return self.source
        return f"a {self.pitch_word} pitched {self.source}" if self.pitch_word else f"a {self.source}"


def draw_scene(rng: np.random.Generator) -> Scene:
    source = str(rng.choice(TONAL + NOISES))
    if source in NOISES:
        return Scene(source)
    pitch = str(rng.choice(list(PITCH_RANGES)))
    low, high = PITCH_RANGES[pitch]
    frequency = float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return Scene(source, frequency, pitch if rng.random() < 0.75 else None)


def faded(signal: np.ndarray) -> np.ndarray:
    """Short linear fades at both ends, so segment edges do not click."""
    count = min(int(FADE_SECONDS * SAMPLE_RATE), len(signal) // 2)
    if count > 0:
        ramp = np.linspace(0.0, 1.0, count)
        signal[:count] *= ramp
        signal[-count:] *= ramp[::-1]
    return signal


def render(scene: Scene, length: int, rng: np.random.Generator) -> np.ndarray:
    """`length` samples of a scene at unit peak level."""
    t = np.arange(length) / SAMPLE_RATE
    if scene.source == "white noise":
        return rng.standard_normal(length) / 3.0
    if scene.source == "pink noise":
        spectrum = np.fft.rfft(rng.standard_normal(length))
        frequencies = np.fft.rfftfreq(length, 1 / SAMPLE_RATE)
        spectrum[1:] /= np.sqrt(frequencies[1:] / frequencies[1])
        spectrum[0] = 0
        pink = np.fft.irfft(spectrum, length)
        return pink / (3.0 * pink.std())
    tone = np.sin(2 * np.pi * scene.frequency * t + rng.uniform(0, 2 * np.pi))
    if scene.source == "sine tone":
        return faded(tone)
    gate = np.zeros(length)
    burst = int(rng.uniform(0.08, 0.2) * SAMPLE_RATE)
    period = int(rng.uniform(0.25, 0.5) * SAMPLE_RATE)
    for start in range(int(rng.uniform(0, period - burst)), length, period):
        end = min(start + burst, length)
        gate[start:end] = faded(np.ones(end - start))
    return tone * gate


def clip(index: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """Clip `index` of the corpus: float samples in [-1, 1] and its caption."""
    rng = np.random.default_rng([seed, index])
    form = rng.choice(["single", "single", "followed", "and"])
    first = draw_scene(rng)
    if form == "single":
        return render(first, CLIP_SAMPLES, rng), first.caption
    second = draw_scene(rng)
    while second.caption == first.caption or (second.source == first.source and form == "and"):
        second = draw_scene(rng)
    if form == "followed":
        split = int(rng.uniform(0.4, 0.6) * CLIP_SAMPLES)
        samples = np.concatenate([faded(render(first, split, rng)),
                                  faded(render(second, CLIP_SAMPLES - split, rng))])
        return samples, f"{first.caption} followed by {second.caption}"
    levels = 10 ** (-rng.uniform(0, 10, size=2) / 20)
    samples = levels[0] * render(first, CLIP_SAMPLES, rng) + levels[1] * render(second, CLIP_SAMPLES, rng)
    return samples, f"{first.caption} and {second.caption}"


def words() -> list[str]:
    """Every word the grammar can produce."""
    vocabulary = {"a", "pitched", "followed", "by", "and"}
    for phrase in list(PITCH_RANGES) + list(TONAL) + list(NOISES):
        vocabulary.update(phrase.split())
    return sorted(vocabulary)
