"""Generation wider than the model's canvas, denoised in windows (Sources/Pipeline/LatentWindows.swift),
restated on diffusers 0.18.2 with the standard fixture folder pipeline_fixtures writes.

The windows: as many canvas-wide windows as let neighbours overlap by at least a quarter of a
window, evenly spaced from the span's first column to its last (offsets rounded half away from
zero, as Swift's `rounded()`).

Two restatements of one step at timestep t, with guidance w, on the span latents x:
  - "average" follows MultiDiffusion's own panorama loop (omerbt/MultiDiffusion, `text2panorama`:
    for each view, the U-Net on the view's latents, guidance, `scheduler.step` on the view; then
    each latent the mean of the views' stepped values over it, `value / count`). With DDIM (eta 0)
    a step is linear in the prediction for a fixed sample, so this equals joining the views'
    predictions before one step, which is how the Swift loop does it for every scheduler.
  - "crossfade" (the toolkit's default join): each view's guided prediction weighted per column,
    the weight ramping linearly across each overlap (column centres, x + 1/2) from the earlier
    window to the later, normalised per column; then one `scheduler.step` on the span (so
    multistep schedulers keep one history, here PNDM's).

Written to Tests/Fixtures/windows/:
  cases.json          per case: name, join, scheduler, prompt, steps, guidance, span frames,
                      noise seed (torch.randn([1, 4, 4, frames / 4], seed))
  <case>.latents.npy  the final latents [1, 4, 4, frames / 4]
"""
import json
import math
import pathlib

import numpy as np
import torch
from diffusers import DDIMScheduler, PNDMScheduler

from editing_fixtures import load_models
from pipeline_fixtures import MELS, SCHEDULER_CONFIG, embeddings

PROMPT = "a dog barking"
# The folder states no image size, so its canvas is Auffusion's 1024 frames (latents 256 wide);
# 2.5 canvases make latents 640 wide: three windows at 0, 192 and 384.
MODEL_CANVAS, SPAN_FRAMES = 1024, 2560
CASES = [("average", "ddim"), ("crossfade", "ddim"), ("crossfade", "pndm")]


def offsets(span: int, window: int) -> list:
    if span <= window:
        return [0]
    overlap = min(max(window // 4, 1), window // 2)
    count = math.ceil((span - overlap) / (window - overlap))
    return [math.floor(index * (span - window) / (count - 1) + 0.5) for index in range(count)]


def crossfade_weights(starts: list, span: int, window: int, index: int) -> torch.Tensor:
    start = starts[index]
    previous_end = starts[index - 1] + window if index > 0 else 0
    next_start = starts[index + 1] if index + 1 < len(starts) else span
    weights = []
    for column in range(window):
        position, x = start + column, start + column + 0.5
        if position < previous_end:
            weights.append((x - start) / (previous_end - start))
        elif position >= next_start:
            weights.append((start + window - x) / (start + window - next_start))
        else:
            weights.append(1.0)
    return torch.tensor(weights, dtype=torch.float32)


def run(models, join: str, scheduler_name: str, noise: torch.Tensor, steps: int, guidance: float) -> torch.Tensor:
    tokenizer, encoder, unet, _ = models
    context = torch.cat([embeddings(tokenizer, encoder, None, ""), embeddings(tokenizer, encoder, None, PROMPT)])
    scheduler = (DDIMScheduler if scheduler_name == "ddim" else PNDMScheduler).from_config(SCHEDULER_CONFIG)
    scheduler.set_timesteps(steps)
    latents = noise * scheduler.init_noise_sigma
    span, window = latents.shape[3], MODEL_CANVAS // 4
    starts = offsets(span, window)

    def guided(view: torch.Tensor, t) -> torch.Tensor:
        eps = unet(scheduler.scale_model_input(torch.cat([view] * 2), t), t, encoder_hidden_states=context).sample
        uncond, cond = eps.chunk(2)
        return uncond + guidance * (cond - uncond)

    with torch.no_grad():
        for t in scheduler.timesteps:
            if join == "average":
                value, count = torch.zeros_like(latents), torch.zeros_like(latents)
                for start in starts:
                    view = latents[:, :, :, start:start + window]
                    value[:, :, :, start:start + window] += scheduler.step(guided(view, t), t, view).prev_sample
                    count[:, :, :, start:start + window] += 1
                latents = value / count
            else:
                total, weight = torch.zeros_like(latents), torch.zeros(span)
                for index, start in enumerate(starts):
                    weights = crossfade_weights(starts, span, window, index)
                    total[:, :, :, start:start + window] += weights * guided(latents[:, :, :, start:start + window], t)
                    weight[start:start + window] += weights
                latents = scheduler.step(total / weight, t, latents).prev_sample
    return latents


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    fixtures = out_dir.parent
    models = load_models(fixtures / "pipeline" / "standard", fixtures / "clip")
    assert offsets(SPAN_FRAMES // 4, MODEL_CANVAS // 4) == [0, 192, 384]
    cases = []
    for index, (join, scheduler) in enumerate(CASES):
        seed, name = 70 + index, f"{join}_{scheduler}"
        noise = torch.randn([1, 4, MELS // 4, SPAN_FRAMES // 4], generator=torch.Generator().manual_seed(seed))
        latents = run(models, join, scheduler, noise, steps=10, guidance=7.5)
        assert torch.isfinite(latents).all()
        np.save(out_dir / f"{name}.latents.npy", latents.numpy().astype("<f4"))
        cases.append({"name": name, "join": join, "scheduler": scheduler, "prompt": PROMPT, "steps": 10, "guidance": 7.5,
                      "span_frames": SPAN_FRAMES, "noise_seed": seed})
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
