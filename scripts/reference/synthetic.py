"""Deterministic stand-in weights shared with the Swift side (Models/Layers/SyntheticParameters.swift).

Every parameter is a cheap formula of its state-dict key and element index, so a full-size
network (the 860 M-parameter U-Net) can be compared with diffusers without shipping weights:
for a key k with n elements, phi = 2*pi*fnv1a32(utf8(k)) / 2**32 and, in float64 then float32,
  rank >= 2:                         x_i = sqrt(2 / fan_in) * sin(0.37 i + phi), fan_in = n / shape[0]
  rank 1, "norm" in k, ends ".weight": x_i = 1 + 0.1 * sin(0.37 i + phi)
  other rank 1:                      x_i = 0.05 * sin(0.37 i + phi)
"""
import math

import numpy as np
import torch


def fnv1a32(key: str) -> int:
    """32-bit FNV-1a hash of the UTF-8 bytes of `key`."""
    value = 2166136261
    for byte in key.encode("utf-8"):
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def synthetic_parameter(key: str, shape: tuple[int, ...]) -> np.ndarray:
    """The synthetic float32 array for `key` with `shape`."""
    count = int(np.prod(shape)) if shape else 1
    phase = 2 * math.pi * fnv1a32(key) / 2**32
    wave = np.sin(0.37 * np.arange(count, dtype=np.float64) + phase)
    if len(shape) >= 2:
        values = math.sqrt(2 / (count // shape[0])) * wave
    elif key.endswith(".weight") and "norm" in key:
        values = 1 + 0.1 * wave
    else:
        values = 0.05 * wave
    return values.astype(np.float32).reshape(shape)


def fill_synthetic(module: torch.nn.Module) -> None:
    """Overwrites every parameter and floating-point buffer of `module` with its synthetic values."""
    with torch.no_grad():
        for key, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.from_numpy(synthetic_parameter(key, tuple(tensor.shape))))
