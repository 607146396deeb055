"""Golden fixtures for the VAE (Sources/Models/Autoencoder): diffusers 0.18.2 `AutoencoderKL`
(models/autoencoder_kl.py, models/vae.py) on tiny random-weight checkpoints saved in the published
layout, and on the full-size Stable Diffusion VAE with synthetic weights.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py vae_fixtures     # writes Tests/Fixtures/vae/

and, to time the full-size reference on this machine with two threads (prints, writes nothing):

    python scripts/reference/vae_fixtures.py --time

Checkpoints (each folder is what `save_pretrained` writes: config.json + weights):
    tiny_a/         block_out_channels (16, 32), layers_per_block 1, 8 groups (downsampling x2);
                    diffusion_pytorch_model.safetensors (fp32) and, from the same weights,
                    diffusion_pytorch_model.fp16.safetensors (variant "fp16")
    tiny_b/         block_out_channels (8, 16, 16, 16), layers_per_block 2, 4 groups (x8, the SD
                    layout in miniature); diffusion_pytorch_model.bin (safe_serialization=False)
    tiny_b_legacy/  tiny_b's state dict with the mid-block attention under its legacy names
                    (query, key, value, proj_attn), torch.save'd as diffusion_pytorch_model.bin;
                    the encoder's four projection weights are stored as [C, C, 1, 1] convolution
                    weights, the decoder's as [C, C] (both occur in old checkpoints)
    full/           config.json only: the Stable Diffusion VAE ([128, 256, 512, 512], 2 layers,
                    32 groups, latent 4, scaling 0.18215); every parameter is
                    synthetic.synthetic_parameter(key, shape) (Swift: ParameterLoader(.synthetic))

Tiny weights: `torch.manual_seed(seed)` before construction (torch's default init), then every
rank-1 parameter (norm scales and all biases) += 0.1 * randn, so that norm parameters are not
the trivial 1 and 0.

Inputs are not stored. With g(s) = torch.Generator().manual_seed(s) (float32, CPU):
    image   = torch.randn(image.shape, generator=g(image.seed)).clamp(-1, 1)     in [-1, 1]
    latents = torch.randn(latents.shape, generator=g(latents.seed))
so the Swift side rebuilds them bit-exactly with TorchRandomSource(seed:, kernel: .avx2); the
script refuses to run unless torch uses its AVX2 kernels (compute_fixtures.check_capability).

Outputs (expected/<case>/*.npy, little-endian float32, C order), torch 2.0.1, one thread:
    mean, logvar    posterior = vae.encode(image).latent_dist: .mean and .logvar (clamped to [-30, 20])
    sample          posterior.sample(generator=g(sample_seed)): mean + std * randn(mean.shape)
    decoded         vae.decode(latents).sample (no scaling factor: the caller applies it)

cases.json: a list of
    {"name", "description", "folder", "variant" (null or "fp16"), "weights" (file name),
     "synthetic" (bool), "expected" (folder under expected/), "image": {"shape", "seed"},
     "latents": {"shape", "seed"}, "sample_seed", "tolerance": {"nmse"}}
with nmse = sum((swift - reference)^2) / sum(reference^2) per output.

The fp16 case runs the reference in float32 with the fp16 file's weights widened to float32
(`from_pretrained(variant="fp16").float()`), which is what the Swift reader does: both sides use
the same fp16-rounded weights and compute in float32. The legacy case has no outputs of its own:
the script checks that diffusers' own `_convert_deprecated_attention_blocks` turns it into
tiny_b's weights exactly, and the Swift test compares it with tiny_b's outputs.
"""
import collections
import json
import pathlib
import shutil
import sys
import time

import torch
from diffusers import AutoencoderKL

from compute_fixtures import check_capability, nmse, save_array
from synthetic import fill_synthetic

TINY = 1e-8       # fp32 weights: summation order only
ROUNDED = 1e-6    # fp16-rounded weights, and the full-size network
FULL_DECODED_ROW_STRIDE = 4  # the full-size case stores decoded[:, :, ::4, :]

SD_VAE = {  # diffusers 0.18 Stable Diffusion VAE config (spec section 5.1)
    "in_channels": 3, "out_channels": 3, "latent_channels": 4,
    "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "norm_num_groups": 32,
    "act_fn": "silu", "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
    "sample_size": 512, "scaling_factor": 0.18215,
}
TINY_A = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4,
    "block_out_channels": [16, 32], "layers_per_block": 1, "norm_num_groups": 8, "act_fn": "silu",
    "down_block_types": ["DownEncoderBlock2D"] * 2, "up_block_types": ["UpDecoderBlock2D"] * 2,
    "sample_size": 64, "scaling_factor": 0.18215,
}
TINY_B = {
    "in_channels": 3, "out_channels": 3, "latent_channels": 4,
    "block_out_channels": [8, 16, 16, 16], "layers_per_block": 2, "norm_num_groups": 4, "act_fn": "silu",
    "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
    "sample_size": 64, "scaling_factor": 0.5,
}
LEGACY_NAMES = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def cases() -> list[dict]:
    def entry(name, description, folder, weights, expected, image, latents, seeds, variant=None,
              synthetic=False, tolerance=TINY):
        return {"name": name, "description": description, "folder": folder, "variant": variant,
                "weights": weights, "synthetic": synthetic, "expected": expected,
                "image": {"shape": list(image), "seed": seeds[0]},
                "latents": {"shape": list(latents), "seed": seeds[1]}, "sample_seed": seeds[2],
                "tolerance": {"nmse": tolerance}}
    return [
        entry("tiny_a", "(16, 32), 1 layer, safetensors fp32", "tiny_a", "diffusion_pytorch_model.safetensors",
              "tiny_a", (1, 3, 64, 128), (1, 4, 8, 16), (5001, 5002, 5003)),
        entry("tiny_a_fp16", "tiny_a's fp16 variant, computed in fp32 on both sides", "tiny_a",
              "diffusion_pytorch_model.fp16.safetensors", "tiny_a_fp16", (1, 3, 64, 128), (1, 4, 8, 16),
              (5001, 5002, 5003), variant="fp16", tolerance=ROUNDED),
        entry("tiny_b", "(8, 16, 16, 16), 2 layers, .bin fp32, batch 2", "tiny_b", "diffusion_pytorch_model.bin",
              "tiny_b", (2, 3, 64, 128), (2, 4, 8, 16), (5011, 5012, 5013)),
        entry("tiny_b_legacy", "tiny_b with legacy attention names (query/key/value/proj_attn)", "tiny_b_legacy",
              "diffusion_pytorch_model.bin", "tiny_b", (2, 3, 64, 128), (2, 4, 8, 16), (5011, 5012, 5013)),
        entry("full", "Stable Diffusion VAE, synthetic weights, 256 x 1024 canvas", "full", None, "full",
              (1, 3, 256, 1024), (1, 4, 32, 128), (5021, 5022, 5023), synthetic=True, tolerance=ROUNDED),
    ]


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

def tiny_model(config: dict, seed: int) -> AutoencoderKL:
    """torch's default init under `seed`, then rank-1 parameters += 0.1 randn."""
    torch.manual_seed(seed)
    model = AutoencoderKL(**config).eval()
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 1:
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))
    return model


def full_model() -> AutoencoderKL:
    model = AutoencoderKL(**SD_VAE).eval()
    fill_synthetic(model)
    return model


def legacy_state_dict(model: AutoencoderKL) -> collections.OrderedDict:
    """The state dict under the pre-0.14 attention names; encoder weights as 1x1 convolutions."""
    renamed = collections.OrderedDict()
    for key, tensor in model.state_dict().items():
        for new, old in LEGACY_NAMES.items():
            marker = f"mid_block.attentions.0.{new}."
            if marker in key:
                key = key.replace(marker, f"mid_block.attentions.0.{old}.")
                if key.startswith("encoder.") and tensor.dim() == 2:
                    tensor = tensor[:, :, None, None]
        renamed[key] = tensor.clone()
    return renamed


def check_legacy(folder: pathlib.Path, model: AutoencoderKL) -> None:
    """diffusers' own conversion must turn the legacy file back into `model`'s weights exactly."""
    state = torch.load(folder / "diffusion_pytorch_model.bin")
    assert any(".proj_attn." in key for key in state) and not any(".to_q." in key for key in state)
    reference = AutoencoderKL.from_config(AutoencoderKL.load_config(folder)).eval()
    reference._convert_deprecated_attention_blocks(state)
    expected = model.state_dict()
    assert set(state) == set(expected)
    for key, tensor in state.items():
        assert torch.equal(tensor.reshape(expected[key].shape), expected[key]), key


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

def inputs(entry: dict) -> tuple[torch.Tensor, torch.Tensor]:
    def draw(spec):
        return torch.randn(spec["shape"], generator=torch.Generator().manual_seed(spec["seed"]), dtype=torch.float32)
    return draw(entry["image"]).clamp(-1, 1), draw(entry["latents"])


def run(model: AutoencoderKL, entry: dict) -> dict:
    image, latents = inputs(entry)
    with torch.no_grad():
        posterior = model.encode(image).latent_dist
        sample = posterior.sample(generator=torch.Generator().manual_seed(entry["sample_seed"]))
        decoded = model.decode(latents).sample
    # diffusers' sample is one randn of the mean's shape, scaled and shifted:
    noise = torch.randn(posterior.mean.shape, generator=torch.Generator().manual_seed(entry["sample_seed"]))
    assert torch.equal(sample, posterior.mean + posterior.std * noise)
    return {"mean": posterior.mean, "logvar": posterior.logvar, "sample": sample, "decoded": decoded}


def save_outputs(folder: pathlib.Path, outputs: dict) -> None:
    folder.mkdir(parents=True)
    for name, value in outputs.items():
        assert value.dtype == torch.float32 and torch.isfinite(value).all(), name
        save_array(folder / f"{name}.npy", value.contiguous().numpy())


def write_checkpoints(out_dir: pathlib.Path) -> dict:
    """Saves the tiny checkpoints and returns the models to run, by case name."""
    tiny_a, tiny_b = tiny_model(TINY_A, 7), tiny_model(TINY_B, 11)
    tiny_a.save_pretrained(out_dir / "tiny_a", safe_serialization=True)
    tiny_a.half().save_pretrained(out_dir / "tiny_a", safe_serialization=True, variant="fp16")
    tiny_b.save_pretrained(out_dir / "tiny_b", safe_serialization=False)
    legacy = out_dir / "tiny_b_legacy"
    legacy.mkdir()
    shutil.copy(out_dir / "tiny_b" / "config.json", legacy / "config.json")
    tiny_b = AutoencoderKL.from_pretrained(out_dir / "tiny_b", low_cpu_mem_usage=False).eval()   # what the published layout gives back
    torch.save(legacy_state_dict(tiny_b), legacy / "diffusion_pytorch_model.bin")
    check_legacy(legacy, tiny_b)
    full = out_dir / "full"
    full.mkdir()
    AutoencoderKL(**SD_VAE).save_config(full)
    return {
        "tiny_a": AutoencoderKL.from_pretrained(out_dir / "tiny_a", low_cpu_mem_usage=False).eval(),
        "tiny_a_fp16": AutoencoderKL.from_pretrained(out_dir / "tiny_a", variant="fp16", low_cpu_mem_usage=False).float().eval(),
        "tiny_b": tiny_b,
    }


def generate(out_dir: pathlib.Path) -> None:
    """Writes every VAE fixture into `out_dir` (Tests/Fixtures/vae/)."""
    check_capability()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: bit-identical reruns regardless of the machine
    try:
        for stale in out_dir.iterdir():
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        models = write_checkpoints(out_dir)
        plan = cases()
        for entry in plan:
            if entry["name"] != entry["expected"]:
                continue  # the legacy checkpoint is checked against tiny_b above
            print(f"  {entry['name']}", flush=True)
            model = full_model() if entry["synthetic"] else models[entry["name"]]
            outputs = run(model, entry)
            if entry["synthetic"]:  # every 4th row of the 256 x 1024 image keeps the folder small
                outputs["decoded"] = outputs["decoded"][:, :, ::FULL_DECODED_ROW_STRIDE, :]
            save_outputs(out_dir / "expected" / entry["name"], outputs)
        rounding = {name: nmse(run(models["tiny_a_fp16"], plan[0])[name], run(models["tiny_a"], plan[0])[name])
                    for name in ("mean", "decoded")}
        print(f"  fp16 weight rounding moves tiny_a's outputs by nmse {rounding}")
        (out_dir / "cases.json").write_text(json.dumps(plan, indent=1) + "\n")
    finally:
        torch.set_num_threads(threads)


def time_full_size(threads: int = 2, runs: int = 3) -> None:
    """Median wall time of the full-size decode and encode on `threads` threads."""
    torch.set_num_threads(threads)
    model = full_model()
    entry = cases()[-1]
    image, latents = inputs(entry)
    for name, step in (("decode [1,4,32,128] -> [1,3,256,1024]", lambda: model.decode(latents)),
                       ("encode [1,3,256,1024] -> [1,4,32,128]", lambda: model.encode(image))):
        times = []
        with torch.no_grad():
            step()  # warm-up
            for _ in range(runs):
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
        print(f"torch {torch.__version__}, {threads} threads: {name}: median {sorted(times)[len(times) // 2]:.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    if sys.argv[1:] == ["--time"]:
        time_full_size()
    else:
        sys.exit("usage: vae_fixtures.py --time   (fixtures: generate.py vae_fixtures)")
