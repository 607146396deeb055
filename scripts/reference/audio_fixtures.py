"""Golden fixtures for the audio front end (spec section 1): mel filterbank, log-mel analysis,
spectrogram "image" mapping and Griffin-Lim convergence.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py audio_fixtures      # writes Tests/Fixtures/audio/

The reference formulas below are written from the spec (Auffusion `converter.py` `mel_spectrogram`
and `get_mel_spectrogram_from_audio`, `auffusion_pipeline.py` `normalize_spectrogram`); the numbers
come from the real libraries: `librosa.filters.mel`, `librosa.util.normalize`, `torch.stft` and
`librosa.griffinlim` at the versions pinned in requirements.txt.

Files written (all arrays little-endian float32, C order):
    filterbank.npy          librosa mel filterbank, (256, 1025)
    mel_pinv.npy            its pseudo-inverse (computed in float64), (1025, 256)
    <case>.wav              16 kHz mono PCM_16 input clip
    <case>.logmel.npy       reference log-mel, (256, T), row 0 = lowest mel bin, T = floor(L / 160)
    <case>.image.npy        image channel 0, (256, T), values in [0, 1], row 0 = highest mel bin
    cases.json              per case: name, samples, frames, peak_int16, description
    griffinlim.json         spectral convergence of librosa.griffinlim for the `speech` and `chirp` cases
"""
import inspect
import json
import pathlib
import subprocess
import tempfile

import librosa
import numpy as np
import soundfile
import torch

SAMPLE_RATE = 16000
N_FFT = 2048
HOP = 160
WIN = 1024
N_MELS = 256
FMIN = 0
FMAX = 8000
MAX_WAV_VALUE = 32768.0
LOG_MIN = float(np.log(1e-5))   # -11.512925464970229
LOG_MAX = float(np.log(200.0))  # 5.298317366548036

GRIFFIN_LIM_CASES = ("speech", "chirp")
GRIFFIN_LIM_ITERATIONS = 32
GRIFFIN_LIM_MOMENTUM = 0.99

SPEECH_TEXT = "A little cat sings a happy song by the open window."
NOISE_SEED = 20240601


# ---------------------------------------------------------------------------------------------
# Reference analysis (spec 1.1-1.4)
# ---------------------------------------------------------------------------------------------

def mel_filterbank() -> np.ndarray:
    """The reference mel basis: librosa defaults (Slaney scale, Slaney norm, float32), (256, 1025)."""
    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)


def scaled_waveform(samples: np.ndarray) -> torch.Tensor:
    """int16 samples -> the reference's [1, L] float32 tensor.

    Divides by 32768 in float64, peak-normalises to 0.95 with `librosa.util.normalize` (an all-zero
    signal is left unchanged) and only then converts to float32.
    """
    y = samples / MAX_WAV_VALUE
    y = librosa.util.normalize(y) * 0.95
    return torch.FloatTensor(y).unsqueeze(0)


def mel_spectrogram(y: torch.Tensor, mel_basis: torch.Tensor) -> torch.Tensor:
    """The reference log-mel of a [1, L] waveform: [1, 256, floor(L / 160)].

    Reflect-pads (n_fft - hop) / 2 = 944 samples each side, takes a non-centred STFT with a
    periodic 1024-point Hann window zero-padded to 2048, magnitude sqrt(re^2 + im^2 + 1e-9),
    projects onto the mel basis and returns ln(max(mel, 1e-5)).
    """
    pad = (N_FFT - HOP) // 2
    y = torch.nn.functional.pad(y.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    spec = torch.stft(y, N_FFT, hop_length=HOP, win_length=WIN, window=torch.hann_window(WIN),
                      center=False, pad_mode="reflect", normalized=False, onesided=True,
                      return_complex=True)
    spec = torch.view_as_real(spec)
    magnitude = torch.sqrt(spec.pow(2).sum(-1) + 1e-9)
    mel = torch.matmul(mel_basis, magnitude)
    return torch.log(torch.clamp(mel, min=1e-5))


def spectrogram_image(log_mel: torch.Tensor) -> torch.Tensor:
    """The pipeline's log-mel -> image mapping: [256, T] -> [3, 256, T] in [0, 1].

    Clamps to [ln 1e-5, ln 200], rescales to [0, 1], repeats into three identical channels and
    flips the mel axis so that image row 0 is the highest mel bin.
    """
    clamped = torch.clamp(log_mel, min=LOG_MIN, max=LOG_MAX)
    data = (clamped - LOG_MIN) / (LOG_MAX - LOG_MIN)
    return torch.flip(data.repeat(3, 1, 1), [1])


def analyse(samples: np.ndarray, mel_basis: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Reference log-mel (256, T) and image channel 0 (256, T) of int16 samples."""
    log_mel = mel_spectrogram(scaled_waveform(samples), mel_basis)[0]
    image = spectrogram_image(log_mel)[0]
    return log_mel.numpy(), image.numpy()


# ---------------------------------------------------------------------------------------------
# Input clips (all 16 kHz mono int16)
# ---------------------------------------------------------------------------------------------

def quantize(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] -> int16 as round(x * 32768), saturated to [-32768, 32767]."""
    return np.clip(np.round(x * MAX_WAV_VALUE), -32768, 32767).astype(np.int16)


def seconds(duration: float) -> np.ndarray:
    """Sample times of a clip lasting `duration` seconds."""
    return np.arange(int(round(duration * SAMPLE_RATE))) / SAMPLE_RATE


def tone440() -> np.ndarray:
    """1 s sine at 440 Hz, amplitude 0.5."""
    return quantize(0.5 * np.sin(2 * np.pi * 440.0 * seconds(1.0)))


def chirp() -> np.ndarray:
    """2 s linear chirp from 50 Hz to 7900 Hz, amplitude 0.5."""
    t = seconds(2.0)
    f0, f1, duration = 50.0, 7900.0, 2.0
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * duration))
    return quantize(0.5 * np.sin(phase))


def noise() -> np.ndarray:
    """1.5 s Gaussian white noise, standard deviation 0.2, seeded."""
    rng = np.random.default_rng(NOISE_SEED)
    return quantize(np.clip(0.2 * rng.standard_normal(len(seconds(1.5))), -1.0, 1.0))


def impulses() -> np.ndarray:
    """1 s of zeros with full-scale unit impulses (+32767 and one -32768) at fixed positions."""
    samples = np.zeros(SAMPLE_RATE, dtype=np.int16)
    samples[[1000, 4321, 8000, 15000]] = 32767
    samples[11111] = -32768
    return samples


def silence() -> np.ndarray:
    """1 s of digital silence (librosa's peak normalisation leaves it unchanged)."""
    return np.zeros(SAMPLE_RATE, dtype=np.int16)


def clipped() -> np.ndarray:
    """1 s square-ish wave: 3 * sin(2 pi 250 t) hard-clipped at +-1 (int16 +32767 / -32768)."""
    return quantize(np.clip(3.0 * np.sin(2 * np.pi * 250.0 * seconds(1.0)), -1.0, 1.0))


def odd_length() -> np.ndarray:
    """16017 samples (not a multiple of the hop) of 0.3 sin(300 Hz) + 0.2 sin(3100 Hz)."""
    t = np.arange(16017) / SAMPLE_RATE
    return quantize(0.3 * np.sin(2 * np.pi * 300.0 * t) + 0.2 * np.sin(2 * np.pi * 3100.0 * t))


def speech() -> np.ndarray:
    """An English sentence (SPEECH_TEXT) from espeak-ng (en-us, 160 wpm), 16 kHz mono via sox.

    espeak-ng writes 22.05 kHz; sox converts to 16 kHz mono 16-bit with -R (repeatable) and
    -D (no dither), so the conversion is a pure resampling and the clip is identical on every run.
    """
    with tempfile.TemporaryDirectory() as folder:
        raw = pathlib.Path(folder) / "espeak.wav"
        converted = pathlib.Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), SPEECH_TEXT],
                       check=True)
        subprocess.run(["sox", "-R", "-V1", str(raw), "-D", "-r", str(SAMPLE_RATE), "-c", "1",
                        "-b", "16", str(converted)], check=True)
        samples, rate = soundfile.read(converted, dtype="int16")
    assert rate == SAMPLE_RATE and samples.ndim == 1
    return samples


CASES = {
    "tone440": tone440,
    "chirp": chirp,
    "noise": noise,
    "impulses": impulses,
    "silence": silence,
    "clipped": clipped,
    "odd_length": odd_length,
    "speech": speech,
}


# ---------------------------------------------------------------------------------------------
# Griffin-Lim (spec 1.5 port addition: a vocoder-free resynthesis check)
# ---------------------------------------------------------------------------------------------

def griffinlim_defaults() -> dict:
    """The `center` and `pad_mode` defaults of the installed `librosa.griffinlim`."""
    parameters = inspect.signature(librosa.griffinlim).parameters
    return {"center": parameters["center"].default, "pad_mode": parameters["pad_mode"].default}


def spectral_convergence(log_mel: np.ndarray, mel_pinv: np.ndarray) -> float:
    """||S - |STFT(GL(S))|||_F / ||S||_F for S = max(0, mel_pinv @ exp(log_mel)).

    Griffin-Lim runs with librosa's own `center`/`pad_mode` defaults and zero-phase init
    (`init=None`); the re-analysis uses the same STFT parameters and the same T frames.
    """
    defaults = griffinlim_defaults()
    linear = np.maximum(0.0, mel_pinv @ np.exp(log_mel)).astype(np.float32)
    waveform = librosa.griffinlim(linear, n_iter=GRIFFIN_LIM_ITERATIONS, hop_length=HOP,
                                  win_length=WIN, n_fft=N_FFT, window="hann",
                                  momentum=GRIFFIN_LIM_MOMENTUM, init=None, length=None)
    rebuilt = np.abs(librosa.stft(waveform, n_fft=N_FFT, hop_length=HOP, win_length=WIN,
                                  window="hann", **defaults))[:, :linear.shape[1]]
    assert rebuilt.shape == linear.shape
    linear64 = linear.astype(np.float64)
    return float(np.linalg.norm(linear64 - rebuilt) / np.linalg.norm(linear64))


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def save_array(path: pathlib.Path, array: np.ndarray) -> None:
    """Writes `array` as a C-order little-endian float32 .npy file."""
    np.save(path, np.ascontiguousarray(array, dtype="<f4"))


def write_json(path: pathlib.Path, value) -> None:
    """Writes `value` as indented JSON with a trailing newline."""
    path.write_text(json.dumps(value, indent=2) + "\n")


def generate(out_dir: pathlib.Path) -> None:
    """Writes every audio fixture into `out_dir` (Tests/Fixtures/audio/)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: bit-identical reruns regardless of the machine
    try:
        filterbank = mel_filterbank()
        assert filterbank.dtype == np.float32 and filterbank.shape == (N_MELS, N_FFT // 2 + 1)
        mel_pinv = np.linalg.pinv(filterbank.astype(np.float64)).astype(np.float32)
        save_array(out_dir / "filterbank.npy", filterbank)
        save_array(out_dir / "mel_pinv.npy", mel_pinv)
        mel_basis = torch.from_numpy(filterbank).float()

        cases, griffinlim = [], {}
        for name, make in CASES.items():
            samples = make()
            soundfile.write(out_dir / f"{name}.wav", samples, SAMPLE_RATE, subtype="PCM_16")
            log_mel, image = analyse(samples, mel_basis)
            assert log_mel.shape == (N_MELS, len(samples) // HOP)
            save_array(out_dir / f"{name}.logmel.npy", log_mel)
            save_array(out_dir / f"{name}.image.npy", image)
            cases.append({
                "name": name,
                "samples": len(samples),
                "frames": log_mel.shape[1],
                "peak_int16": int(np.abs(samples.astype(np.int32)).max()),
                "description": inspect.getdoc(make).splitlines()[0],
            })
            if name in GRIFFIN_LIM_CASES:
                griffinlim[name] = {
                    "spectral_convergence": spectral_convergence(log_mel, mel_pinv),
                    "n_iter": GRIFFIN_LIM_ITERATIONS,
                    "momentum": GRIFFIN_LIM_MOMENTUM,
                    **griffinlim_defaults(),
                    "init": "zero phase",
                }
        write_json(out_dir / "cases.json", cases)
        write_json(out_dir / "griffinlim.json", griffinlim)
    finally:
        torch.set_num_threads(threads)
