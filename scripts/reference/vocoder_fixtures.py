"""Golden fixtures for the HiFi-GAN vocoder (spec section 2; Sources/Models/Vocoder).

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py vocoder_fixtures     # writes Tests/Fixtures/vocoder/

The network below is written out from Auffusion's `Generator`, `ResBlock1` and `ResBlock2`
(converter.py, identical in auffusion_pipeline.py): weight-normed convolutions
(torch.nn.utils.weight_norm, dim 0), leaky ReLU 0.1 inside, the default slope 0.01 before
conv_post, and the ConvTranspose1d padding rule `(k - u) // 2`, or `(k - u) // 2 + 1` with
output_padding 1 when k - u is odd.

Small models (random weights, seeded). Each folder is laid out like a published `vocoder/`:
    <model>/config.json         the HiFi-GAN config, with the training keys the real one carries
    <model>/vocoder.pt          torch.save({"generator": state_dict, "steps": 0, "epoch": 0}),
                                weight-normed keys (weight_g, weight_v, bias)
  or <model>/vocoder.safetensors  the folded state dict (after remove_weight_norm: weight, bias)
    <model>/input.npy           log-mel input, 2 * randn(shape, manual_seed(seed)) - 5
    <model>/output.npy          Generator(input) in float32, [B, 1, hop * T]
Models:
    v1          resblock "1", upsample_rates [5,4,4,2], kernels [11,8,8,4] (the real ones), 32
                initial channels, 16 mels, resblock kernels [3,7,11] x dilations (1,3,5);
                input [2, 16, 40] (batch of two)
    v1_fp16     v1's state dict converted with .half() before saving; output of the float32
                model that loads it (every weight rounded to float16, as the Swift side reads it)
    v1_folded   v1 after remove_weight_norm, as safetensors
    v2          resblock "2", upsample_rates [4,5], kernels [8,10] (k - u = 5 is odd: padding
                3, output_padding 1), 24 initial channels, 12 mels, resblock kernels [3,7] x
                dilations (1,2) and (2,6); input [1, 12, 37]
Full size (spec 2.1, weights not stored):
    full/config.json            the real Auffusion vocoder config
    full/input.npy              [1, 256, 100] log-mel, same recipe (seed FULL_SEED)
    full/output.npy             [1, 1, 16000] from the Generator built *without* weight norm
                                (plain Conv1d/ConvTranspose1d) whose every parameter is
                                synthetic.synthetic_parameter(key, shape) on the folded keys
                                (`conv_pre.weight`, `ups.0.bias`, ...): the Swift side fills the
                                same keys with SyntheticParameters.
Int16 conversion (converter.py `Generator.inference`):
    int16.json                  {"inputs": float32 samples, "reference": (x * 32768.0).astype("int16")
                                as numpy computes it}; at exactly +-1.0 and beyond numpy wraps.

Checks made here: the weight-normed and the remove_weight_norm model give the same output, the
safetensors and the fp16 file round-trip, and every output has hop * T samples and no NaN.
"""
import json
import pathlib
import shutil

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch.nn.utils import remove_weight_norm, weight_norm

from compute_fixtures import save_array
from synthetic import synthetic_parameter

LRELU_SLOPE = 0.1
MAX_WAV_VALUE = 32768.0
FULL_SEED = 2024
FULL_FRAMES = 100

# Keys the published config carries for training only; kept so that the Swift decoder is shown
# to ignore them.
TRAINING_KEYS = {
    "num_gpus": 0, "batch_size": 16, "learning_rate": 0.0002, "adam_b1": 0.8, "adam_b2": 0.99,
    "lr_decay": 0.999, "seed": 1234, "segment_size": 5120, "num_workers": 4, "fmax_for_loss": None,
    "dist_config": {"dist_backend": "nccl", "dist_url": "tcp://localhost:54321", "world_size": 1},
}
AUDIO_KEYS = {"num_freq": 2049, "n_fft": 2048, "hop_size": 160, "win_size": 1024,
              "sampling_rate": 16000, "fmin": 0, "fmax": None}

FULL_CONFIG = {
    "resblock": "1", "upsample_rates": [5, 4, 4, 2], "upsample_kernel_sizes": [11, 8, 8, 4],
    "upsample_initial_channel": 512, "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "num_mels": 256,
    **AUDIO_KEYS, **TRAINING_KEYS,
}
SMALL = {
    "v1": ({"resblock": "1", "upsample_rates": [5, 4, 4, 2], "upsample_kernel_sizes": [11, 8, 8, 4],
            "upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 7, 11],
            "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "num_mels": 16,
            **AUDIO_KEYS, **TRAINING_KEYS}, {"seed": 11, "input": [2, 16, 40], "input_seed": 12}),
    "v2": ({"resblock": "2", "upsample_rates": [4, 5], "upsample_kernel_sizes": [8, 10],
            "upsample_initial_channel": 24, "resblock_kernel_sizes": [3, 7],
            "resblock_dilation_sizes": [[1, 2], [2, 6]], "num_mels": 12,
            **AUDIO_KEYS, "hop_size": 20, **TRAINING_KEYS}, {"seed": 21, "input": [1, 12, 37], "input_seed": 22}),
}


# ---------------------------------------------------------------------------------------------
# The reference network (Auffusion converter.py Generator), with or without weight norm
# ---------------------------------------------------------------------------------------------

def padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


class ResBlock1(torch.nn.Module):
    """Three (dilated conv, conv) pairs, each `x + conv2(lrelu(conv1(lrelu(x))))`."""

    def __init__(self, norm, channels, kernel, dilations):
        super().__init__()
        self.convs1 = torch.nn.ModuleList(
            norm(torch.nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=padding(kernel, d)))
            for d in dilations[:3])
        self.convs2 = torch.nn.ModuleList(
            norm(torch.nn.Conv1d(channels, channels, kernel, 1, dilation=1, padding=padding(kernel)))
            for _ in range(3))

    def forward(self, x):
        for c1, c2 in zip(self.convs1, self.convs2):
            x = c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE)) + x
        return x


class ResBlock2(torch.nn.Module):
    """Two dilated convs, each `x + conv(lrelu(x))`."""

    def __init__(self, norm, channels, kernel, dilations):
        super().__init__()
        self.convs = torch.nn.ModuleList(
            norm(torch.nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=padding(kernel, d)))
            for d in dilations[:2])

    def forward(self, x):
        for c in self.convs:
            x = c(F.leaky_relu(x, LRELU_SLOPE)) + x
        return x


class Generator(torch.nn.Module):
    def __init__(self, h: dict, normed: bool = True):
        super().__init__()
        norm = weight_norm if normed else (lambda module: module)
        self.num_kernels = len(h["resblock_kernel_sizes"])
        self.num_upsamples = len(h["upsample_rates"])
        first = h["upsample_initial_channel"]
        self.conv_pre = norm(torch.nn.Conv1d(h["num_mels"], first, 7, 1, padding=3))
        block = ResBlock1 if h["resblock"] == "1" else ResBlock2
        self.ups = torch.nn.ModuleList()
        for i, (u, k) in enumerate(zip(h["upsample_rates"], h["upsample_kernel_sizes"])):
            odd = (k - u) % 2
            self.ups.append(norm(torch.nn.ConvTranspose1d(
                first // 2**i, first // 2**(i + 1), k, u, padding=(k - u) // 2 + odd, output_padding=odd)))
        self.resblocks = torch.nn.ModuleList()
        for i in range(self.num_upsamples):
            channels = first // 2**(i + 1)
            for k, d in zip(h["resblock_kernel_sizes"], h["resblock_dilation_sizes"]):
                self.resblocks.append(block(norm, channels, k, d))
        self.conv_post = norm(torch.nn.Conv1d(channels, 1, 7, 1, padding=3))

    def forward(self, x):
        x = self.conv_pre(x)
        for i in range(self.num_upsamples):
            x = self.ups[i](F.leaky_relu(x, LRELU_SLOPE))
            xs = None
            for j in range(self.num_kernels):
                y = self.resblocks[i * self.num_kernels + j](x)
                xs = y if xs is None else xs + y
            x = xs / self.num_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))

    def remove_weight_norm(self):
        for module in self.modules():
            if hasattr(module, "weight_g"):
                remove_weight_norm(module)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------

def randomize(model: Generator, seed: int) -> None:
    """Seeded random weight-norm parameters: v ~ N(0, 1), g ~ U(0.6, 1.2) (row norms near 1, so
    activations keep their scale), biases ~ 0.1 N(0, 1)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if key.endswith("weight_g"):
                tensor.copy_(0.6 + 0.6 * torch.rand(tensor.shape, generator=generator))
            elif key.endswith("weight_v"):
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
            else:
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))


def log_mel_input(shape, seed: int) -> torch.Tensor:
    """A log-mel-like input: 2 * randn - 5 (values around ln 1e-5 .. ln 200 are typical)."""
    return 2 * torch.randn(shape, generator=torch.Generator().manual_seed(seed)) - 5


def run(model: Generator, x: torch.Tensor, config: dict) -> torch.Tensor:
    with torch.no_grad():
        y = model.eval()(x)
    hop = int(np.prod(config["upsample_rates"]))
    assert y.shape == (x.shape[0], 1, hop * x.shape[2]) and torch.isfinite(y).all()
    return y


def write_json(path: pathlib.Path, value) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


def write_model(folder: pathlib.Path, config: dict, x: torch.Tensor, y: torch.Tensor) -> None:
    folder.mkdir()
    write_json(folder / "config.json", config)
    save_array(folder / "input.npy", x.numpy())
    save_array(folder / "output.npy", y.numpy())


def small_models(out: pathlib.Path) -> None:
    for name, (config, plan) in SMALL.items():
        model = Generator(config)
        randomize(model, plan["seed"])
        x = log_mel_input(plan["input"], plan["input_seed"])
        y = run(model, x, config)
        write_model(out / name, config, x, y)
        state = model.state_dict()
        assert all(not key.endswith(".weight") for key in state)
        torch.save({"generator": state, "steps": 0, "epoch": 0}, out / name / "vocoder.pt")
        print(f"  {name}: output std {y.std():.3f}, max |y| {y.abs().max():.3f}")

        if name == "v1":
            half = {key: value.half() for key, value in state.items()}
            widened = Generator(config)
            widened.load_state_dict({key: value.float() for key, value in half.items()})
            y16 = run(widened, x, config)
            write_model(out / "v1_fp16", config, x, y16)
            torch.save({"generator": half, "steps": 0, "epoch": 0}, out / "v1_fp16" / "vocoder.pt")
            print(f"  v1_fp16: differs from v1 by {(y16 - y).abs().max():.2e} (float16 weights)")

        model.remove_weight_norm()
        folded = run(model, x, config)
        assert torch.equal(folded, y), f"{name}: remove_weight_norm changed the output"
        if name == "v1":
            write_model(out / "v1_folded", config, x, folded)
            save_file({key: value.contiguous() for key, value in model.state_dict().items()},
                      str(out / "v1_folded" / "vocoder.safetensors"))


def full_size(out: pathlib.Path) -> None:
    model = Generator(FULL_CONFIG, normed=False)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            tensor.copy_(torch.from_numpy(synthetic_parameter(key, tuple(tensor.shape))))
    x = log_mel_input((1, FULL_CONFIG["num_mels"], FULL_FRAMES), FULL_SEED)
    y = run(model, x, FULL_CONFIG)
    folder = out / "full"
    write_model(folder, FULL_CONFIG, x, y)
    print(f"  full: output std {y.std():.3f}, max |y| {y.abs().max():.3f}")


def int16_cases(out: pathlib.Path) -> None:
    """numpy's own answer for `(x * 32768.0).astype("int16")` on edge values."""
    x = np.array([0.0, 0.5, -0.5, 0.25 / MAX_WAV_VALUE, 1 / MAX_WAV_VALUE, -1 / MAX_WAV_VALUE,
                  1.9 / MAX_WAV_VALUE, -1.9 / MAX_WAV_VALUE, 0.123456, -0.654321,
                  np.nextafter(np.float32(1), np.float32(0)), -np.nextafter(np.float32(1), np.float32(0)),
                  1.0, -1.0], dtype=np.float32)
    with np.errstate(invalid="ignore"):
        reference = (x * MAX_WAV_VALUE).astype("int16")
    write_json(out / "int16.json", {"inputs": [float(v) for v in x], "reference": [int(v) for v in reference]})


def generate(out_dir: pathlib.Path) -> None:
    """Writes every vocoder fixture into `out_dir` (Tests/Fixtures/vocoder/)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: bit-identical reruns regardless of the machine
    try:
        for stale in out_dir.iterdir():
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        small_models(out_dir)
        full_size(out_dir)
        int16_cases(out_dir)
    finally:
        torch.set_num_threads(threads)
