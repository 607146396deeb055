"""The synthetic captioned sound corpus of the embedded model (docs/mini-model.md).

Every clip is drawn from a small grammar and its caption is generated from the same parameters,
so each caption is exactly true of its clip:

    clip     := scene | scene " followed by " scene | scene " and " scene
    scene    := tonal | noise
    tonal    := "a " [level " "] [pitch " pitched "] ("sine tone" | "beep")
    noise    := [level " "] ("white noise" | "pink noise")
    pitch    := "low" (120-300 Hz) | "medium" (400-900 Hz) | "high" (1500-3500 Hz)
    level    := "quiet" | "loud"                  (in "and" mixes only)

A "beep" is a train of short bursts of a square wave (80-200 ms every 250-500 ms) over its whole
segment; its pitch is the fundamental, and its odd harmonics (at 1/n, below 7.5 kHz) put a low and
a high beep into shared mel bands. Each burst also carries a faint hiss, white noise 60 dB below
the square wave's peak: inaudible beside the tone, but on the log-mel image it lifts every band of
a burst to about 0.3 (silence is 0, the tone 0.8), so a low and a high beep share every row in
*when* while their tone rows still say *what* (docs/mini-model.md, "Word-swap timing").
"followed by" splits the clip at 40-60 % of its length. "and" mixes both scenes over the whole
clip: in half of the mixes at levels within 2 dB of each other, with no level word; in the other
half one scene is 10-20 dB below the other, and the caption calls that one "quiet" or the other
one "loud" (a coin decides which). Level words are relative, so single scenes and "followed by"
halves (each at its full level) have none. Pitch is omitted from a caption one time in four (the
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
LEVELS = ("quiet", "loud")
FADE_SECONDS = 0.005
HARMONICS_BELOW_HZ = 7500.0
EQUAL_MIX_DB = 2.0             # the largest level difference of an "and" mix without level words
QUIET_MIX_DB = (10.0, 20.0)    # how far below the other scene a "quiet" one is
BEEP_HISS_DB = -60.0           # a beep burst's white noise, relative to the square wave's peak


@dataclasses.dataclass(frozen=True)
class Scene:
    """One sound source and what its caption says about it."""
    source: str                 # "sine tone", "beep", "white noise" or "pink noise"
    frequency: float = 0.0      # Hz, tonal sources only
    pitch_word: str | None = None
    level_word: str | None = None

    @property
    def caption(self) -> str:
        words = [self.level_word] if self.level_word else []
        if self.source in NOISES:
            return " ".join(words + [self.source])
        if self.pitch_word:
            words.append(f"{self.pitch_word} pitched")
        return " ".join(["a"] + words + [self.source])


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
    phase = rng.uniform(0, 2 * np.pi)
    if scene.source == "sine tone":
        return faded(np.sin(2 * np.pi * scene.frequency * t + phase))
    gate = beep_gate(length, rng)
    hiss = 10 ** (BEEP_HISS_DB / 20) * rng.standard_normal(length)
    burst = (square_wave(scene.frequency, t, phase) + hiss) * gate
    return burst / np.abs(burst).max()


def square_wave(frequency: float, t: np.ndarray, phase: float) -> np.ndarray:
    """A band-limited square wave at unit peak: the odd harmonics below HARMONICS_BELOW_HZ at 1/n."""
    wave = sum(np.sin(n * (2 * np.pi * frequency * t + phase)) / n
               for n in range(1, int(HARMONICS_BELOW_HZ / frequency) + 1, 2))
    return wave / np.abs(wave).max()


def beep_gate(length: int, rng: np.random.Generator) -> np.ndarray:
    """On/off envelope of a beep train: 80-200 ms bursts every 250-500 ms, from a random start."""
    gate = np.zeros(length)
    burst = int(rng.uniform(0.08, 0.2) * SAMPLE_RATE)
    period = int(rng.uniform(0.25, 0.5) * SAMPLE_RATE)
    for start in range(int(rng.uniform(0, period - burst)), length, period):
        end = min(start + burst, length)
        gate[start:end] = faded(np.ones(end - start))
    return gate


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
    first, second, gains = mix_levels(first, second, rng)
    samples = gains[0] * render(first, CLIP_SAMPLES, rng) + gains[1] * render(second, CLIP_SAMPLES, rng)
    return samples, f"{first.caption} and {second.caption}"


def mix_levels(first: Scene, second: Scene, rng: np.random.Generator) -> tuple[Scene, Scene, np.ndarray]:
    """The gains of an "and" mix and its scenes with the level words that describe them."""
    if rng.random() < 0.5:
        return first, second, 10 ** (np.array([rng.uniform(-EQUAL_MIX_DB, EQUAL_MIX_DB), 0.0]) / 20)
    quieter = int(rng.integers(2))
    gains = np.ones(2)
    gains[quieter] = 10 ** (-rng.uniform(*QUIET_MIX_DB) / 20)
    scenes = [first, second]
    if rng.random() < 0.5:
        scenes[quieter] = dataclasses.replace(scenes[quieter], level_word="quiet")
    else:
        scenes[1 - quieter] = dataclasses.replace(scenes[1 - quieter], level_word="loud")
    return scenes[0], scenes[1], gains


def words() -> list[str]:
    """Every word the grammar can produce."""
    vocabulary = {"a", "pitched", "followed", "by", "and"}
    for phrase in list(PITCH_RANGES) + list(TONAL) + list(NOISES) + list(LEVELS):
        vocabulary.update(phrase.split())
    return sorted(vocabulary)
