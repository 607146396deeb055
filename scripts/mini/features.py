"""Clips -> spectrogram images, exactly as the toolkit analyses audio (Auffusion converter.py,
restated in scripts/reference/audio_fixtures.py), with the embedded model's 64 mel bands."""
from __future__ import annotations

import pathlib
import sys

import librosa
import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import audio_fixtures as reference  # noqa: E402

N_MELS = 64
MEL_BASIS = torch.from_numpy(librosa.filters.mel(sr=reference.SAMPLE_RATE, n_fft=reference.N_FFT, n_mels=N_MELS,
                                                 fmin=reference.FMIN, fmax=reference.FMAX))


def images(clips: np.ndarray) -> np.ndarray:
    """[B, L] float samples -> [B, 64, L / 160] images in [0, 1], row 0 = highest mel band.

    Each clip is peak-normalised to 0.95 first, as the reference's `scaled_waveform` does.
    """
    peaks = np.abs(clips).max(axis=1, keepdims=True)
    scaled = np.where(peaks > 0, clips / np.maximum(peaks, 1e-12), clips) * 0.95
    log_mel = reference.mel_spectrogram(torch.from_numpy(scaled.astype(np.float32)), MEL_BASIS)
    clamped = torch.clamp(log_mel, min=reference.LOG_MIN, max=reference.LOG_MAX)
    return torch.flip((clamped - reference.LOG_MIN) / (reference.LOG_MAX - reference.LOG_MIN), [1]).numpy()


def log_mel(image: np.ndarray) -> np.ndarray:
    """The inverse mapping: an image [64, T] -> log-mel [64, T], row 0 = lowest band."""
    return image[::-1] * (reference.LOG_MAX - reference.LOG_MIN) + reference.LOG_MIN


def vocoder_config() -> dict:
    """`vocoder/config.json` of the embedded model: mel parameters only, no HiFi-GAN weights."""
    return {"num_mels": N_MELS, "n_fft": reference.N_FFT, "hop_size": reference.HOP, "win_size": reference.WIN,
            "sampling_rate": reference.SAMPLE_RATE, "fmin": reference.FMIN, "fmax": reference.FMAX}
