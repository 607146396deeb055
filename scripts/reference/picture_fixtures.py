"""Fixtures for the spectrogram picture: Auffusion's `image_add_color(torch_to_pil(image))`.

The reference (Auffusion utils.py) turns a [0, 1] spectrogram image into bytes with
torchvision's ToPILImage (`mul(255).byte()`, truncating), indexes matplotlib's viridis table
with the first channel, min-max rescales the RGB result and truncates it to uint8. The steps
are reproduced here with torch and matplotlib themselves.
"""
import json
import pathlib

import numpy as np
import torch
from matplotlib import colormaps


def reference_colouring(image: np.ndarray) -> np.ndarray:
    """[H, W] float32 image in [0, 1] -> [H, W, 3] uint8, as image_add_color(torch_to_pil(x))."""
    channel = torch.from_numpy(image).mul(255).byte().numpy()  # torchvision ToPILImage on float input
    coloured = colormaps["viridis"](channel)[:, :, :3]
    coloured = (coloured - coloured.min()) / (coloured.max() - coloured.min())
    return np.uint8(coloured * 255)


def generate(out_dir: pathlib.Path) -> None:
    rng = np.random.default_rng(7)
    height, width = 32, 40
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    image = np.clip(ramp + rng.normal(0, 0.1, size=(height, width)).astype(np.float32), 0, 1)
    image[0, :4] = [0.0, 1.0, 0.5, 0.999]  # exact extremes and a truncation edge
    np.save(out_dir / "input.npy", image.astype(np.float32))
    np.save(out_dir / "viridis_rgb.npy", reference_colouring(image.astype(np.float32)))
    (out_dir / "cases.json").write_text(json.dumps({"height": height, "width": width}) + "\n")
