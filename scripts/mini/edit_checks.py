"""The two prompt-to-prompt checks of meaning, in Python, on an exported model folder:

    python scripts/mini/edit_checks.py Sources/Pipeline/Resources/auffusion-mini

They ask what the Swift tests ask of the audio (EmbeddedModelTests: reweighting and word swap),
on the decoded spectrograms, with the reference controllers of scripts/reference/p2p_fixtures.py
(Auffusion's prompt2prompt code restated) on diffusers' U-Net: the folder's PNDM, 25 steps,
guidance 5, seeds 0-9, one start noise shared by both prompts. Training does not run them (its
checks are evaluate.py's); they tell whether a retrained model is worth the Swift suite.
"""
from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch
from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

import architecture
import features

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
import p2p_fixtures as p2p  # noqa: E402

SEEDS = range(10)
STEPS = 25
GUIDANCE = 5.0
# The mel filters are area-normalised (slaney), so a band's value is a mean over its width:
# its share of the clip's power is value x width.
BAND_WIDTHS = 1 / features.MEL_BASIS.numpy().max(axis=1)


def load(folder: pathlib.Path):
    return (CLIPTokenizer.from_pretrained(folder / "tokenizer"),
            CLIPTextModel.from_pretrained(folder / "text_encoder").float().eval(),
            UNet2DConditionModel.from_pretrained(folder / "unet").float().eval(),
            AutoencoderKL.from_pretrained(folder / "vae").float().eval(),
            json.loads((folder / "scheduler" / "scheduler_config.json").read_text()))


@torch.no_grad()
def prompt_to_prompt(models, prompts: list[str], edit: dict, seed: int) -> list[np.ndarray]:
    """Log-mels [64, 256] of both prompts, the second edited by `edit` (p2p_fixtures' case keys)."""
    tokenizer, encoder, unet, vae, scheduler_config = models
    context = torch.cat([p2p.encode(tokenizer, encoder, [""] * len(prompts)), p2p.encode(tokenizer, encoder, prompts)])
    scheduler = PNDMScheduler.from_config(scheduler_config)
    scheduler.set_timesteps(STEPS)
    noise = torch.randn((1, *architecture.LATENT_SHAPE), generator=torch.Generator().manual_seed(seed))
    latents = noise.expand(len(prompts), -1, -1, -1).clone()
    controller = p2p.make_controller(dict(edit, prompts=prompts), len(unet.attn_processors), tokenizer, steps=STEPS)
    p2p.register(unet, controller)
    for t in scheduler.timesteps:
        unconditional, conditional = unet(torch.cat([latents] * 2), t, encoder_hidden_states=context).sample.chunk(2)
        latents = scheduler.step(unconditional + GUIDANCE * (conditional - unconditional), t, latents).prev_sample
    images = (vae.decode(latents / vae.config.scaling_factor).sample[:, 0] / 2 + 0.5).clamp(0, 1).numpy()
    return [features.log_mel(image) for image in images]


def band_power(log_mel: np.ndarray) -> np.ndarray:
    return np.exp(2 * log_mel) * BAND_WIDTHS[:, None]


def share_away_from_dominant(log_mel: np.ndarray, bands: int = 2) -> float:
    """The share of the power more than `bands` mel bands from the strongest band."""
    power = band_power(log_mel).mean(axis=1)
    peak = int(power.argmax())
    return float(1 - power[max(0, peak - bands):peak + bands + 1].sum() / power.sum())


def envelope(log_mel: np.ndarray, floor_db: float = -60.0) -> np.ndarray:
    """Loudness per 20 ms (two frames) in dB below the loudest, floored at `floor_db`, as the Swift
    test measures it (SoundMeasures.envelopeDecibels): when the bursts sound, not how loud each is."""
    loudness = np.sqrt(band_power(log_mel).sum(axis=0))
    loudness = loudness[:len(loudness) // 2 * 2].reshape(-1, 2).mean(axis=1)
    return np.maximum(floor_db, 20 * np.log10(np.maximum(loudness, 1e-30) / loudness.max()))


def checks(folder: pathlib.Path) -> dict:
    models = load(folder)
    reweighted, swapped = [], []
    for seed in SEEDS:
        plain, weighted = prompt_to_prompt(models, ["a beep and white noise"] * 2,
                                           dict(edit="reweight", cross=0.8, self=0.4, weights={"noise": 2.0}), seed)
        reweighted.append((round(share_away_from_dominant(plain), 3), round(share_away_from_dominant(weighted), 3)))
        low, high = prompt_to_prompt(models, ["a low pitched beep", "a high pitched beep"],
                                     dict(edit="replace", cross=0.8, self=0.4), seed)
        swapped.append((int(band_power(low).mean(axis=1).argmax()), int(band_power(high).mean(axis=1).argmax()),
                        round(float(np.corrcoef(envelope(low), envelope(high))[0, 1]), 2)))
    return {"reweight_raises_noise_share": sum(after > before for before, after in reweighted),
            "swap_raises_pitch": sum(high > low for low, high, _ in swapped),
            "swap_keeps_timing": sum(correlation >= 0.5 for *_, correlation in swapped),
            "noise_share_at_weight_1_and_2": reweighted, "swap_bands_and_envelope_correlation": swapped}


if __name__ == "__main__":
    torch.set_num_threads(2)
    print(json.dumps(checks(pathlib.Path(sys.argv[1])), indent=1))
