"""Sizes of the embedded model: Auffusion's architecture (diffusers AutoencoderKL and
UNet2DConditionModel, a CLIP text encoder in the standard layout), scaled down to 64 mel bands
and a 2.56 s canvas, so that it trains on two CPU cores."""
from __future__ import annotations

from diffusers import AutoencoderKL, DDPMScheduler, PNDMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel

import features

LATENT_SHAPE = (4, features.N_MELS // 8, 32)   # 8x down: 64 mels x 256 frames -> 8 x 32
TEXT_WIDTH = 64

# Noise schedules by name (scheduler_config.json's beta and prediction settings). The shipped model
# uses "linear_to_0.04_v". Stable Diffusion's scaled_linear, which Auffusion ships, did not work
# for this model: the mini latent is 8 x 32 and a tone is one row constant over 32 columns, so its
# row mean still stands out of the noise at t = 999 (sqrt(alpha_bar) = 0.068) and the model learns
# to read pitch and layout from the starting latents instead of the prompt (docs/mini-model.md).
# DDPM's "linear" leaves 0.0064 at t = 999 but still 0.125 at t = 641, where img2img at strength
# 0.7 with 25 steps starts: enough for a tone to survive.
NOISE_SCHEDULES = {
    "scaled_linear": dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear"),
    "linear": dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear"),
    # linear twice as steep: sqrt(alpha_bar) ~ 0.02 at t = 641, where a tone should no longer survive.
    # With epsilon prediction it fails: above t ~ 550 almost no signal is left, and DDIM's estimate
    # x0 = (x_t - sqrt(1 - alpha_bar) eps) / sqrt(alpha_bar) divides the model's error by 0.04 to
    # 1e-4 there, so samples saturate into the top mel band.
    "linear_to_0.04": dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.04, beta_schedule="linear"),
    # The same schedule with v prediction (Salimans & Ho 2022), which stays well conditioned where the
    # signal is gone (Lin et al. 2024, "Common diffusion noise schedules and sample steps are
    # flawed"): there the model must predict the clip from the words alone, so layout and pitch
    # come from the prompt rather than from the starting noise.
    "linear_to_0.04_v": dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.04, beta_schedule="linear",
                             prediction_type="v_prediction"),
}
DEFAULT_SCHEDULE = "linear_to_0.04_v"


def autoencoder() -> AutoencoderKL:
    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=LATENT_SHAPE[0],
                         down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                         block_out_channels=(16, 32, 64, 64), layers_per_block=1, norm_num_groups=16,
                         sample_size=[features.N_MELS, 256])


def unet() -> UNet2DConditionModel:
    # The canvas is declared by the VAE's [64, 256] sample_size; diffusers' StableDiffusionPipeline
    # needs an int here (it compares it with 64), used only for its default image size.
    return UNet2DConditionModel(sample_size=LATENT_SHAPE[2], in_channels=4, out_channels=4,
                                down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                                block_out_channels=(64, 128, 128), layers_per_block=1, attention_head_dim=8,
                                cross_attention_dim=TEXT_WIDTH, norm_num_groups=16)


def text_encoder(vocabulary_size: int, bos: int, eos: int) -> CLIPTextModel:
    return CLIPTextModel(CLIPTextConfig(vocab_size=vocabulary_size, hidden_size=TEXT_WIDTH, intermediate_size=256,
                                        num_hidden_layers=3, num_attention_heads=4, max_position_embeddings=77,
                                        hidden_act="quick_gelu", bos_token_id=bos, eos_token_id=eos,
                                        pad_token_id=eos))


def training_noise(schedule: str) -> DDPMScheduler:
    return DDPMScheduler(**NOISE_SCHEDULES[schedule])


def shipped_scheduler(schedule: str) -> PNDMScheduler:
    """The sampler the folder names: PNDM with Stable Diffusion's settings (as Auffusion ships it)
    on the model's noise schedule."""
    return PNDMScheduler(**NOISE_SCHEDULES[schedule], skip_prk_steps=True, set_alpha_to_one=False, steps_offset=1)
