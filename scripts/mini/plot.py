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
DECODER = re.compile(r"decoder step (\d+)/\d+\s+L1 ([\d.]+)")
UNET = re.compile(r"unet step (\d+)/\d+\s+loss ([\d.]+)")
METRICS = re.compile(r"metrics at step (\d+): (\{.*\})")
SHOWN = {"pitch_high_above_low": "pitch: high above low", "noise_flatter_than_tone": "timbre: noise flatter",
         "beep_then_noise_order": "order: beep then noise", "transfer_rises": "transfer 0.7: tone rises"}


def main(log_path: str, picture_path: str) -> None:
    # by step, so that a resumed run's repeated steps count once (the later line wins)
    vae, decoder, unet, metrics = {}, {}, {}, {}
    for line in open(log_path, encoding="utf-8"):
        if match := VAE.search(line):
            vae[int(match[1])] = float(match[2])
        elif match := DECODER.search(line):
            decoder[int(match[1])] = float(match[2])
        elif match := UNET.search(line):
            unet[int(match[1])] = float(match[2])
        elif match := METRICS.search(line):
            metrics[int(match[1])] = json.loads(match[2])
    vae, decoder, unet, metrics = (sorted(series.items()) for series in (vae, decoder, unet, metrics))
    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].plot(*zip(*vae), label="VAE (batch 8)")
    if decoder:
        last = vae[-1][0] if vae else 0
        axes[0].plot([last + step for step, _ in decoder], [l1 for _, l1 in decoder], label="decoder alone (batch 16)")
        axes[0].legend(loc="upper right")
    axes[0].set(title="VAE: L1 of the [0, 1] image", xlabel="step", yscale="log")
    axes[1].plot(*zip(*unet))
    axes[1].set(title="U-Net + text encoder: weighted loss (EMA 0.98)", xlabel="step (batch 32)")
    # shrinking markers, so that checks with equal counts stay visible on top of each other
    for (key, label), size in zip(SHOWN.items(), (11, 8, 5, 3)):
        axes[2].plot([step for step, _ in metrics], [m[key] for _, m in metrics], marker="o", markersize=size,
                     label=label)
    axes[2].set(title="checks of meaning (seeds of 10, Python sampler)", xlabel="step", ylim=(-0.5, 10.5))
    axes[2].legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(picture_path, dpi=90)


if __name__ == "__main__":
    main(*sys.argv[1:])
