"""End-to-end text-to-audio fixtures: tiny random-weight model folders in both published layouts,
and what the Python pipeline makes of them.

The reference pipeline below restates Auffusion's `AuffusionPipeline.__call__`
(auffusion_pipeline.py: adapter layout) and diffusers 0.18.2's `StableDiffusionPipeline` as the
no-adapter notebooks call it (standard layout), on diffusers' own U-Net, VAE and schedulers and
transformers' CLIP:
  1. text: adapter layout: fast tokenizer (AutoTokenizer) without padding -> CLIP -> rows
     zero-padded to 77 -> ConditionAdapter; unconditional = zeros, or the negative prompt's
     encoding. Standard layout: slow tokenizer padded to 77 -> CLIP; unconditional = the
     encoding of the negative prompt or of "".
  2. latents = the given noise * init_noise_sigma; scheduler.set_timesteps(N);
     for t: x2 = cat([x, x]); eps = unet(scale_model_input(x2, t), t, cat([uncond, cond]));
     eps = eps_u + w (eps_c - eps_u); x = scheduler.step(eps, t, x).
  3. image = clamp(vae.decode(x / scaling_factor) / 2 + 0.5, 0, 1); log-mel = flip(channel 0) *
     (ln 200 - ln 1e-5) + ln 1e-5 (denormalize_spectrogram); waveform = vocoder(log-mel) (float).

The models are tiny so the whole run takes a fraction of a second, but real in every other way:
the real CLIP vocabulary (its 49 408-token embedding is why CLIP is 8 wide and stored in fp16),
16 mel bands on a 64-frame canvas (0.64 s), a HiFi-GAN with the real upsampling (hop 160).

Written to Tests/Fixtures/pipeline/:
  adapter/, standard/   the model folders without their tokenizer files (vocab.json, merges.txt,
                        tokenizer_config.json, special_tokens_map.json: the Swift test copies them
                        from Tests/Fixtures/clip/tokenizer/ into text_encoder_0/ or tokenizer/,
                        so the 1.4 MB vocabulary is stored once)
  cases.json            per case: layout, prompt, negative prompt, scheduler, steps, guidance (and rescale),
                        canvas frames, duration, noise seed (torch.randn([1, 4, 4, 16], seed))
  <case>.mel.npy        the log-mel that went into the vocoder, [16, 64]
  <case>.wave.npy       the vocoder's float waveform, trimmed to the duration
"""
import json
import pathlib
import shutil
import tempfile

import numpy as np
import torch
from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, PNDMScheduler, UNet2DConditionModel
from transformers import AutoTokenizer, CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from clip_fixtures import ConditionAdapter, write_tokenizer_files
from vocoder_fixtures import Generator, randomize as randomize_vocoder

TOKENIZER_FILES = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]
MELS, CANVAS, DURATION = 16, 64, 0.5
LOG_LOW, LOG_HIGH = float(np.log(1e-5)), float(np.log(200.0))

SCHEDULER_CONFIG = {  # Auffusion's scheduler/scheduler_config.json (spec 6.1)
    "_class_name": "PNDMScheduler", "_diffusers_version": "0.18.2", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False, "num_train_timesteps": 1000,
    "prediction_type": "epsilon", "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1,
    "timestep_spacing": "leading", "trained_betas": None}
CLIP_CONFIG = dict(vocab_size=49408, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
                   max_position_embeddings=77, hidden_act="quick_gelu", bos_token_id=49406, eos_token_id=49407,
                   pad_token_id=1)
UNET_CONFIG = dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(8, 16), layers_per_block=1,
                   down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                   up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), attention_head_dim=2,
                   cross_attention_dim=8, norm_num_groups=4)
VAE_CONFIG = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8, 8, 8), layers_per_block=1,
                  down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                  norm_num_groups=4, sample_size=16)
VOCODER_CONFIG = {"resblock": "1", "num_gpus": 0, "batch_size": 16, "learning_rate": 0.0002, "adam_b1": 0.8,
                  "adam_b2": 0.99, "lr_decay": 0.999, "seed": 1234, "upsample_rates": [5, 4, 4, 2],
                  "upsample_kernel_sizes": [11, 8, 8, 4], "upsample_initial_channel": 16,
                  "resblock_kernel_sizes": [3, 7], "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
                  "segment_size": 5120, "num_mels": MELS, "num_freq": 2049, "n_fft": 2048, "hop_size": 160,
                  "win_size": 1024, "sampling_rate": 16000, "fmin": 0, "fmax": None, "fmax_for_loss": None}
CONDITION = {"text_encoder_name": "text_encoder_0", "condition_adapter_name": "condition_adapter_0",
             "condition_type": "clip-vit-large-patch14_text", "pretrained_model_name_or_path": "openai/clip-vit-large-patch14",
             "condition_max_length": 77, "condition_dim": 8, "cross_attention_dim": 8}
CASES = [  # (layout, scheduler, negative prompt, guidance_rescale)
    (layout, scheduler, negative, 0.0) for layout in ("adapter", "standard") for scheduler in ("pndm", "dpmpp")
    for negative in (None, "static noise")] + [("adapter", "pndm", None, 0.7)]
PROMPT = "a dog barking while rain falls on a tin roof"


def seeded(module: torch.nn.Module, seed: int, scale: float = 0.3) -> None:
    """Overwrites every floating tensor with seeded noise (norm scales around 1)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            noise = torch.randn(tensor.shape, generator=generator)
            tensor.copy_(1 + 0.1 * noise if ("norm" in key and key.endswith("weight")) else scale * noise)


def write_common(folder: pathlib.Path) -> tuple:
    """unet/, vae/, scheduler/, vocoder/ of a model folder; returns the models."""
    unet = UNet2DConditionModel(**UNET_CONFIG).eval()
    seeded(unet, 1)
    unet.save_pretrained(folder / "unet", safe_serialization=True)
    vae = AutoencoderKL(**VAE_CONFIG).eval()
    seeded(vae, 2, scale=0.15)
    vae.save_pretrained(folder / "vae", safe_serialization=False)
    (folder / "scheduler").mkdir()
    (folder / "scheduler" / "scheduler_config.json").write_text(json.dumps(SCHEDULER_CONFIG, indent=2))
    vocoder = Generator(VOCODER_CONFIG).eval()
    randomize_vocoder(vocoder, 3)
    (folder / "vocoder").mkdir()
    (folder / "vocoder" / "config.json").write_text(json.dumps(VOCODER_CONFIG, indent=2))
    torch.save({"generator": vocoder.state_dict()}, folder / "vocoder" / "vocoder.pt")
    return unet, vae, vocoder


def write_text(folder: pathlib.Path, layout: str) -> tuple:
    """The text side of a layout, fp16 CLIP weights; returns (tokenizer, encoder, adapter or None)."""
    encoder = CLIPTextModel(CLIPTextConfig(**CLIP_CONFIG)).eval()
    seeded(encoder, 4, scale=0.5)
    encoder = encoder.half().float()  # the stored weights are fp16; compute in float32 from them
    name = "text_encoder_0" if layout == "adapter" else "text_encoder"
    encoder.half().save_pretrained(folder / name, safe_serialization=True)
    encoder.float()
    if layout == "adapter":
        write_tokenizer_files(folder / "tokenizer_files")
        for file in TOKENIZER_FILES:
            shutil.move(str(folder / "tokenizer_files" / file), folder / name / file)
        (folder / "tokenizer_files").rmdir()
        (folder / "condition_config.json").write_text(json.dumps([CONDITION], indent=4))
        adapter = ConditionAdapter(CONDITION).eval()
        seeded(adapter, 5)
        (folder / "condition_adapter_0").mkdir()
        (folder / "condition_adapter_0" / "config.json").write_text(json.dumps(CONDITION, indent=4))
        torch.save(adapter.state_dict(), folder / "condition_adapter_0" / "condition_adapter.pt")
        return AutoTokenizer.from_pretrained(folder / name), encoder, adapter
    write_tokenizer_files(folder / "tokenizer")
    return CLIPTokenizer.from_pretrained(folder / "tokenizer"), encoder, None


def embeddings(tokenizer, encoder, adapter, prompt: str) -> torch.Tensor:
    """The conditioning of one prompt, [1, 77, 8], as the layout's pipeline computes it."""
    with torch.no_grad():
        if adapter is None:
            ids = tokenizer(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
            return encoder(ids)[0]
        ids = torch.tensor([tokenizer(prompt).input_ids])
        hidden = encoder(ids)[0]
        padded = torch.zeros(1, 77, hidden.shape[2], dtype=hidden.dtype)
        padded[:, :hidden.shape[1]] = hidden[:, :77]
        return adapter(padded)


def reference_run(models: dict, layout: str, scheduler_name: str, negative, noise: torch.Tensor, steps: int,
                  guidance: float, rescale: float = 0.0) -> tuple:
    """The Python pipeline (module docstring); returns (log-mel [16, 64], waveform)."""
    tokenizer, encoder, adapter, unet, vae, vocoder = models[layout]
    cond = embeddings(tokenizer, encoder, adapter, PROMPT)
    if negative is None and adapter is not None:
        uncond = torch.zeros_like(cond)
    else:
        uncond = embeddings(tokenizer, encoder, adapter, negative or "")
    scheduler_class = PNDMScheduler if scheduler_name == "pndm" else DPMSolverMultistepScheduler
    scheduler = scheduler_class.from_config(SCHEDULER_CONFIG)
    scheduler.set_timesteps(steps)
    latents = noise * scheduler.init_noise_sigma
    context = torch.cat([uncond, cond])
    with torch.no_grad():
        for t in scheduler.timesteps:
            model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
            eps = unet(model_input, t, encoder_hidden_states=context).sample
            eps_uncond, eps_cond = eps.chunk(2)
            eps = eps_uncond + guidance * (eps_cond - eps_uncond)
            if rescale > 0:  # AuffusionPipeline's rescale_noise_cfg (Lin et al. 2023, eq. 16)
                dims = list(range(1, eps.ndim))
                rescaled = eps * (eps_cond.std(dim=dims, keepdim=True) / eps.std(dim=dims, keepdim=True))
                eps = rescale * rescaled + (1 - rescale) * eps
            latents = scheduler.step(eps, t, latents).prev_sample
        image = (vae.decode(latents / vae.config.scaling_factor).sample / 2 + 0.5).clamp(0, 1)
        log_mel = torch.flip(image[0, 0], dims=[0]) * (LOG_HIGH - LOG_LOW) + LOG_LOW
        wave = vocoder(log_mel[None])[0, 0]
    return log_mel, wave[:int(DURATION * 16000)]


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    for stale in out_dir.iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    models = {}
    with tempfile.TemporaryDirectory() as scratch:
        for layout in ("adapter", "standard"):
            folder = pathlib.Path(scratch) / layout
            folder.mkdir()
            unet, vae, vocoder = write_common(folder)
            tokenizer, encoder, adapter = write_text(folder, layout)
            models[layout] = (tokenizer, encoder, adapter, unet, vae, vocoder)
            shutil.copytree(folder, out_dir / layout, ignore=shutil.ignore_patterns(*TOKENIZER_FILES))
    cases = []
    for index, (layout, scheduler, negative, rescale) in enumerate(CASES):
        seed = 40 + index
        noise = torch.randn([1, 4, MELS // 4, CANVAS // 4], generator=torch.Generator().manual_seed(seed))
        name = f"{layout}_{scheduler}_{'negative' if negative else 'plain'}" + (f"_rescale{rescale}" if rescale else "")
        log_mel, wave = reference_run(models, layout, scheduler, negative, noise, steps=10, guidance=7.5, rescale=rescale)
        assert torch.isfinite(log_mel).all() and torch.isfinite(wave).all()
        np.save(out_dir / f"{name}.mel.npy", log_mel.numpy().astype("<f4"))
        np.save(out_dir / f"{name}.wave.npy", wave.numpy().astype("<f4"))
        cases.append({"name": name, "layout": layout, "prompt": PROMPT, "negative_prompt": negative,
                      "scheduler": scheduler, "steps": 10, "guidance": 7.5, "guidance_rescale": rescale, "canvas_frames": CANVAS,
                      "duration": DURATION, "noise_seed": seed})
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
