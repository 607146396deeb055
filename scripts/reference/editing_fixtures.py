"""Editing fixtures: style transfer (SDEdit) and inpainting on the tiny standard-layout pipeline
model of pipeline_fixtures.py, as diffusers 0.18.2 runs them.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py editing_fixtures      # writes Tests/Fixtures/editing/

The models are read from Tests/Fixtures/pipeline/standard/ (regenerate pipeline_fixtures first if
that changes); the tokenizer files from Tests/Fixtures/clip/tokenizer/. The reference restates:
  clip      a synthesised 0.5 s signal written as 16 kHz PCM_16 WAV; log-mel as audio_fixtures.py
            (peak-normalised to 0.95, 16 mel bands here), image mapping, right-padded with 0 to the
            64-frame canvas (Auffusion utils.py pad_spec), x -> 2x - 1, VAE posterior **mean** x
            scaling_factor (the Swift default; the reference samples, RNG draw #1).
  transfer  StableDiffusionImg2ImgPipeline.__call__ (pipeline_stable_diffusion_img2img.py):
            set_timesteps(N); init = min(int(N s), N); t_start = max(N - init, 0);
            timesteps = scheduler.timesteps[t_start * order:]; noise = randn(seed);
            x = add_noise(z0, noise, timesteps[:1]); the guided loop of pipeline_fixtures.py over
            that tail; decode.
  inpaint   StableDiffusionInpaintPipeline.__call__ (pipeline_stable_diffusion_inpaint.py) with a
            4-channel U-Net at strength 1: x = noise * init_noise_sigma; mask [1, 1, 16, 64]
            (1 = regenerate) -> F.interpolate(nearest) to the latent grid; after step i
            ref = add_noise(z0, noise, timesteps[i + 1]) (z0 itself after the last step);
            x = (1 - m) ref + m x. With the posterior mean, RNG draws 1, 3 and 4 of spec 7.4 do
            not happen; `noise` (draw 2) is the only tensor drawn.

Written to Tests/Fixtures/editing/:
  clip.wav              the input clip (16 kHz mono PCM_16, 0.5 s)
  clip.latents.npy      its scaled posterior-mean latents, [1, 4, 4, 16]
  cases.json            per case: name, kind, prompt, strength, steps, guidance, noise seed,
                        mask ranges in seconds (inpaint)
  <case>.mel.npy        the log-mel that went into the vocoder, [16, 64]
"""
import json
import pathlib
import shutil
import tempfile

import librosa
import numpy as np
import soundfile
import torch
from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

from audio_fixtures import MAX_WAV_VALUE, mel_spectrogram, scaled_waveform, spectrogram_image
from pipeline_fixtures import CANVAS, LOG_HIGH, LOG_LOW, MELS, SCHEDULER_CONFIG, TOKENIZER_FILES, embeddings

PROMPT = "a cat meowing loudly in a small room"
STEPS, GUIDANCE, DURATION = 10, 7.5, 0.5
CASES = [  # (name, kind, strength, noise seed, mask ranges in seconds)
    ("transfer_30", "transfer", 0.3, 71, []),
    ("transfer_70", "transfer", 0.7, 72, []),
    ("inpaint_time", "inpaint", 1.0, 73, [[0.16, 0.40]]),  # frames 16..40: latent cells 4..10 (factor 4)
]


def clip_samples() -> np.ndarray:
    """0.5 s of int16: a falling chirp, a 1.2 kHz tone entering halfway and a little seeded noise."""
    t = np.arange(int(DURATION * 16000)) / 16000
    chirp = 0.5 * np.sin(2 * np.pi * (3000 * t - 2500 * t ** 2))
    tone = 0.3 * np.sin(2 * np.pi * 1200 * t) * (t > 0.25)
    noise = 0.05 * np.random.default_rng(7).standard_normal(t.shape)
    return np.round((chirp + tone + noise) * 0.8 * 32767).astype(np.int16)


def load_models(pipeline_dir: pathlib.Path, clip_dir: pathlib.Path) -> tuple:
    """(tokenizer, text encoder, unet, vae) of the standard-layout fixture folder."""
    with tempfile.TemporaryDirectory() as scratch:
        for file in TOKENIZER_FILES:
            shutil.copy(clip_dir / "tokenizer" / file, pathlib.Path(scratch) / file)
        tokenizer = CLIPTokenizer.from_pretrained(scratch)
    encoder = CLIPTextModel.from_pretrained(pipeline_dir / "text_encoder").float().eval()
    unet = UNet2DConditionModel.from_pretrained(pipeline_dir / "unet").eval()
    vae = AutoencoderKL.from_pretrained(pipeline_dir / "vae").eval()
    return tokenizer, encoder, unet, vae


def clip_latents(samples: np.ndarray, vae, mels: int = MELS, canvas: int = CANVAS) -> torch.Tensor:
    """The clip's scaled posterior-mean latents on the mels x canvas image ([1, 4, 4, 16] here)."""
    basis = torch.from_numpy(librosa.filters.mel(sr=16000, n_fft=2048, n_mels=mels, fmin=0, fmax=8000))
    log_mel = mel_spectrogram(scaled_waveform(samples.astype(np.float64) * 1.0), basis)[0]
    image = spectrogram_image(log_mel)                                      # [3, mels, frames]
    padded = torch.zeros(1, 3, mels, canvas)
    padded[0, :, :, :image.shape[2]] = image
    with torch.no_grad():
        return vae.encode(2 * padded - 1).latent_dist.mean * vae.config.scaling_factor


def denoise(unet, scheduler, latents, timesteps, context, after_step=None) -> torch.Tensor:
    """The guided loop of pipeline_fixtures.py over `timesteps`, with the inpainting blend hook."""
    with torch.no_grad():
        for i, t in enumerate(timesteps):
            model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
            eps = unet(model_input, t, encoder_hidden_states=context).sample
            eps_uncond, eps_cond = eps.chunk(2)
            eps = eps_uncond + GUIDANCE * (eps_cond - eps_uncond)
            latents = scheduler.step(eps, t, latents).prev_sample
            if after_step is not None:
                latents = after_step(i, latents)
    return latents


def run_case(kind, strength, seed, ranges, z0, unet, vae, context, steps=STEPS,
             scheduler_class=PNDMScheduler) -> torch.Tensor:
    """The log-mel of one edit on the image grid of z0 ([16, 64] here)."""
    scheduler = scheduler_class.from_config(SCHEDULER_CONFIG)
    scheduler.set_timesteps(steps)
    init = min(int(steps * strength), steps)
    timesteps = scheduler.timesteps[max(steps - init, 0) * scheduler.order:]
    noise = torch.randn(z0.shape, generator=torch.Generator().manual_seed(seed)).to(z0.dtype)
    after_step = None
    if kind == "transfer":
        latents = scheduler.add_noise(z0, noise, timesteps[:1])
    else:
        latents = noise * scheduler.init_noise_sigma
        factor = 2 ** (len(vae.config.block_out_channels) - 1)                # the pipelines' vae_scale_factor
        mask = torch.zeros(1, 1, z0.shape[2] * factor, z0.shape[3] * factor)
        for start, end in ranges:
            mask[:, :, :, round(start * 100):round(end * 100)] = 1
        m = torch.nn.functional.interpolate(mask, size=(z0.shape[2], z0.shape[3]))

        def after_step(i, x):
            proper = z0
            if i < len(timesteps) - 1:
                proper = scheduler.add_noise(z0, noise, torch.tensor([timesteps[i + 1]]))
            return (1 - m) * proper + m * x
    return decode(vae, denoise(unet, scheduler, latents, timesteps, context, after_step))


def decode(vae, latents) -> torch.Tensor:
    """The log-mel [mels, frames] of latents [1, 4, h, w]: VAE decode, image mapping, rows flipped."""
    with torch.no_grad():
        image = (vae.decode(latents / vae.config.scaling_factor).sample / 2 + 0.5).clamp(0, 1)
    return torch.flip(image[0, 0], dims=[0]) * (LOG_HIGH - LOG_LOW) + LOG_LOW


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    for stale in out_dir.iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    fixtures = out_dir.parent
    tokenizer, encoder, unet, vae = load_models(fixtures / "pipeline" / "standard", fixtures / "clip")
    samples = clip_samples()
    soundfile.write(out_dir / "clip.wav", samples, 16000, subtype="PCM_16")
    z0 = clip_latents(samples, vae)
    np.save(out_dir / "clip.latents.npy", z0.numpy().astype("<f4"))
    context = torch.cat([embeddings(tokenizer, encoder, None, ""), embeddings(tokenizer, encoder, None, PROMPT)])
    cases = []
    for name, kind, strength, seed, ranges in CASES:
        log_mel = run_case(kind, strength, seed, ranges, z0, unet, vae, context)
        assert torch.isfinite(log_mel).all()
        np.save(out_dir / f"{name}.mel.npy", log_mel.numpy().astype("<f4"))
        cases.append({"name": name, "kind": kind, "prompt": PROMPT, "strength": strength, "steps": STEPS,
                      "guidance": GUIDANCE, "noise_seed": seed, "mask": ranges})
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
