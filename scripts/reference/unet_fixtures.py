"""U-Net fixtures: diffusers 0.18.2 `UNet2DConditionModel` on small random configurations, saved
in the published folder layout, and the full Stable-Diffusion-1.5 size with synthetic weights.

Inputs are not stored: latents, text context and (for the full size) everything else are
`scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed))`, which the Swift
tests regenerate with TorchRandomSource. cases.json lists, per case, the model folder (or
"synthetic" with its config), the inputs' shapes/seeds/scales, the timesteps and the output file.
"""
import json
import pathlib
import shutil
import time

import numpy as np
import torch
from diffusers import UNet2DConditionModel

from synthetic import fill_synthetic

SMALL_CONFIGS = {
    # Two levels, attention_head_dim as a number, 1x1-conv projections, batch 1, non-square latents.
    "unet_small_conv": dict(
        sample_size=16, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=4, cross_attention_dim=12, norm_num_groups=8, use_linear_projection=False),
    # Three levels, heads per block as a list, linear projections, 2 layers per block.
    "unet_small_linear": dict(
        sample_size=16, in_channels=4, out_channels=4, block_out_channels=(16, 24, 32), layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        attention_head_dim=[2, 4, 8], cross_attention_dim=20, norm_num_groups=8, use_linear_projection=True),
}

# The Stable-Diffusion-1.5 U-Net (the architecture of every released Auffusion U-Net).
SD15_CONFIG = dict(
    sample_size=64, in_channels=4, out_channels=4, block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    attention_head_dim=8, cross_attention_dim=768, norm_num_groups=32, use_linear_projection=False,
    flip_sin_to_cos=True, freq_shift=0, downsample_padding=1, act_fn="silu", norm_eps=1e-5)


def randn(shape, seed, scale=1.0):
    """scale * torch.randn(shape) from its own seeded CPU generator (float32)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * scale


def save_small(name: str, config: dict, folder: pathlib.Path, seed: int) -> UNet2DConditionModel:
    """A randomly initialised model saved as diffusers saves it (safetensors or .bin, fp32 or fp16)."""
    torch.manual_seed(seed)
    model = UNet2DConditionModel(**config).eval()
    with torch.no_grad():  # larger random norms and biases than the defaults, so every parameter matters
        for key, tensor in model.state_dict().items():
            if tensor.dim() == 1:
                tensor.add_(torch.randn(tensor.shape, generator=torch.Generator().manual_seed(seed + len(key))) * 0.1)
    model.save_pretrained(folder, safe_serialization=(name == "unet_small_conv"))
    return model


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    for stale in out_dir.iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    cases = []
    for index, (name, config) in enumerate(SMALL_CONFIGS.items()):
        folder = out_dir / name
        model = save_small(name, config, folder, seed=100 + index)
        batch, tokens = (1, 7) if name == "unet_small_conv" else (2, 9)
        latent_shape = [batch, 4, 16, 32] if name == "unet_small_conv" else [batch, 4, 8, 24]
        inputs = {"sample": {"shape": latent_shape, "seed": 10 + index, "scale": 1.0},
                  "context": {"shape": [batch, tokens, config["cross_attention_dim"]], "seed": 20 + index, "scale": 1.0}}
        timesteps = [981.0] if batch == 1 else [981.0, 1.0]
        with torch.no_grad():
            output = model(randn(latent_shape, 10 + index), torch.tensor(timesteps),
                           encoder_hidden_states=randn(inputs["context"]["shape"], 20 + index)).sample
        np.save(out_dir / f"{name}.output.npy", output.numpy().astype("<f4"))
        cases.append({"name": name, "folder": name, "inputs": inputs, "timesteps": timesteps,
                      "output": f"{name}.output.npy", "tolerance": {"nmse": 1e-8}})
        if name == "unet_small_conv":
            # The same weights stored as fp16 (`variant="fp16"`); the reference output is computed in
            # float32 from the fp16-rounded weights, as the Swift side widens them on load.
            model.half().save_pretrained(out_dir / f"{name}_fp16", safe_serialization=True, variant="fp16")
            model.float()
            with torch.no_grad():
                half_output = model(randn(latent_shape, 10 + index), torch.tensor(timesteps),
                                    encoder_hidden_states=randn(inputs["context"]["shape"], 20 + index)).sample
            np.save(out_dir / f"{name}_fp16.output.npy", half_output.numpy().astype("<f4"))
            cases.append({"name": f"{name}_fp16", "folder": f"{name}_fp16", "inputs": inputs, "timesteps": timesteps,
                          "output": f"{name}_fp16.output.npy", "tolerance": {"nmse": 1e-8}})

    # Full size, synthetic weights: only the output is stored.
    model = UNet2DConditionModel(**SD15_CONFIG).eval()
    fill_synthetic(model)
    inputs = {"sample": {"shape": [1, 4, 32, 128], "seed": 30, "scale": 1.0},
              "context": {"shape": [1, 77, 768], "seed": 31, "scale": 1.0}}
    torch.set_num_threads(2)
    start = time.perf_counter()
    with torch.no_grad():
        output = model(randn([1, 4, 32, 128], 30), torch.tensor([981.0]), encoder_hidden_states=randn([1, 77, 768], 31)).sample
    seconds = time.perf_counter() - start
    np.save(out_dir / "unet_sd15_synthetic.output.npy", output.numpy().astype("<f4"))
    config = {key: list(value) if isinstance(value, tuple) else value for key, value in SD15_CONFIG.items()}
    cases.append({"name": "unet_sd15_synthetic", "synthetic_config": config, "inputs": inputs, "timesteps": [981.0],
                  "output": "unet_sd15_synthetic.output.npy", "tolerance": {"nmse": 1e-6},
                  "reference_seconds_2_threads": round(seconds, 2)})
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
