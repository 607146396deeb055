"""Training-time checks of meaning, on spectrograms sampled in Python (DDIM, 25 steps, guidance 5,
seeds 0-9). The Swift tests ask the same questions of the shipped model on audio, on seeds held out
from all of this (Tests/EditingTests/EmbeddedModelTests.swift `seeds`, 100-109): the recipe was tuned
until SEEDS passed here, so they are training's own and are not evidence for the shipped model.
Training's generators use seeds of at least 1,000,003 (train.py `generator`)."""
from __future__ import annotations

import pathlib

import numpy as np
import torch
from diffusers import DDIMScheduler

import architecture
import features

SEEDS = range(10)
STEPS = 25
GUIDANCE = 5.0
PROMPTS = ["a low pitched sine tone", "a high pitched sine tone", "white noise", "a sine tone",
           "a beep followed by white noise"]


def dominant_band(log_mel: np.ndarray) -> int:
    """The mel band with the most energy over the clip (0 = lowest)."""
    return int(np.exp(log_mel).mean(axis=1).argmax())


def flatness(log_mel: np.ndarray) -> float:
    """Spectral flatness of the mean mel power over the frames (1 = flat, 0 = one band), as the
    Swift tests measure audio. A mean of per-frame flatness would count the silent frames
    between beeps (the image's floor, perfectly flat) as noise."""
    power = np.exp(2 * log_mel).mean(axis=1)
    return float(np.exp(np.log(power).mean()) / power.mean())


LOW_TONE_HZ = 3.4804 * 200 / 3   # the centre of the 5th mel band, the Swift tests' low tone
TRANSFER_STRENGTH = 0.7


def low_tone_image() -> np.ndarray:
    """The spectrogram image [64, 256] of 2.56 s of a 0.5-amplitude sine at LOW_TONE_HZ."""
    t = np.arange(features.reference.SAMPLE_RATE * 256 // 100) / features.reference.SAMPLE_RATE
    return features.images((0.5 * np.sin(2 * np.pi * LOW_TONE_HZ * t))[None])[0]


@torch.no_grad()
def sample(work: pathlib.Path, unet_state, text_state, scaling: float, schedule: str, prompts: list[str],
           start_image: np.ndarray | None = None, strength: float = 1.0) -> list[np.ndarray]:
    """Log-mels [64, 256] of every prompt at every seed (prompt-major): generated from noise, or,
    with `start_image`, restyled from it at `strength` as diffusers' img2img pipeline does."""
    from train import as_vae_input, load_tokenizer, load_vae, text_encoder_for
    tokenizer, vae = load_tokenizer(work), load_vae(work)
    unet, text = architecture.unet(), text_encoder_for(tokenizer)
    unet.load_state_dict(unet_state), text.load_state_dict(text_state)
    unet.eval(), text.eval()
    ids = tokenizer([p for p in prompts for _ in SEEDS], padding="max_length", max_length=77,
                    return_tensors="pt").input_ids
    conditional = text(ids)[0]
    unconditional = text(tokenizer([""], padding="max_length", max_length=77, return_tensors="pt").input_ids)[0]
    embeddings = torch.cat([unconditional.expand_as(conditional), conditional])
    noise = torch.cat([torch.randn((1, *architecture.LATENT_SHAPE), generator=torch.Generator().manual_seed(seed))
                       for _ in prompts for seed in SEEDS])
    scheduler = DDIMScheduler(**architecture.NOISE_SCHEDULES[schedule], clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    scheduler.set_timesteps(STEPS)
    timesteps, latents = scheduler.timesteps, noise
    if start_image is not None:
        timesteps = timesteps[STEPS - int(STEPS * strength):]
        clean = vae.encode(as_vae_input(start_image[None])).latent_dist.mean * scaling
        latents = scheduler.add_noise(clean.expand_as(noise), noise, timesteps[:1])
    for t in timesteps:
        output = unet(torch.cat([latents, latents]), t, encoder_hidden_states=embeddings).sample
        uncond, cond = output.chunk(2)
        latents = scheduler.step(uncond + GUIDANCE * (cond - uncond), t, latents).prev_sample
    decoded = vae.decode(latents / scaling).sample
    images = (decoded[:, 0] / 2 + 0.5).clamp(0, 1).numpy()
    return [features.log_mel(image) for image in images]


def metrics(work: pathlib.Path, unet_state, text_state, scaling: float, schedule: str) -> dict:
    mels = sample(work, unet_state, text_state, scaling, schedule, PROMPTS)
    by_prompt = {p: mels[i * len(SEEDS):(i + 1) * len(SEEDS)] for i, p in enumerate(PROMPTS)}
    tone = low_tone_image()
    restyled = sample(work, unet_state, text_state, scaling, schedule, ["a high pitched sine tone"], tone,
                      TRANSFER_STRENGTH)
    low, high = by_prompt["a low pitched sine tone"], by_prompt["a high pitched sine tone"]
    half = lambda m, part: m[:, :128] if part == 0 else m[:, 128:]
    return {
        "pitch_high_above_low": sum(dominant_band(h) > dominant_band(l) for l, h in zip(low, high)),
        "noise_flatter_than_tone": sum(flatness(n) > flatness(t) for n, t in
                                       zip(by_prompt["white noise"], by_prompt["a sine tone"])),
        "beep_then_noise_order": sum(flatness(half(m, 0)) < flatness(half(m, 1))
                                     for m in by_prompt["a beep followed by white noise"]),
        "transfer_rises": sum(dominant_band(m) > dominant_band(features.log_mel(tone)) for m in restyled),
        "low_bands": [dominant_band(m) for m in low],
        "high_bands": [dominant_band(m) for m in high],
    }
