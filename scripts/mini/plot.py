"""Draws the training curves of the embedded model from the log train.py wrote.

    python scripts/mini/plot.py .mini-work/train.log docs/images/mini-model-training.png
"""
from __future__ import annotations

import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

VAE = re.compile(r"vae step (\d+)/\d+\s+L1 ([\d.]+)")
UNET = re.compile(r"unet step (\d+)/\d+\s+loss ([\d.]+)")
METRICS = re.compile(r"metrics at step (\d+): (\{.*\})")
SHOWN = {"pitch_high_above_low": "pitch: high above low", "noise_flatter_than_tone": "timbre: noise flatter",
         "beep_then_noise_order": "order: beep then noise"}


def main(log_path: str, picture_path: str) -> None:
    vae, unet, metrics = [], [], []
    for line in open(log_path, encoding="utf-8"):
        if match := VAE.search(line):
            vae.append((int(match[1]), float(match[2])))
        elif match := UNET.search(line):
            unet.append((int(match[1]), float(match[2])))
        elif match := METRICS.search(line):
            metrics.append((int(match[1]), json.loads(match[2])))
    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].plot(*zip(*vae))
    axes[0].set(title="VAE: L1 of the [0, 1] image", xlabel="step (batch 8)", yscale="log")
    axes[1].plot(*zip(*unet))
    axes[1].set(title="U-Net + text encoder: min-SNR loss (EMA 0.98)", xlabel="step (batch 32)")
    for key, label in SHOWN.items():
        axes[2].plot([step for step, _ in metrics], [m[key] for _, m in metrics], marker="o", label=label)
    axes[2].set(title="checks of meaning (seeds of 10, Python sampler)", xlabel="step", ylim=(-0.5, 10.5))
    axes[2].legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(picture_path, dpi=90)


if __name__ == "__main__":
    main(*sys.argv[1:])
