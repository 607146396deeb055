"""Golden fixtures for the compute kernels (Sources/Compute): linear, convolutions, normalisations,
activations, attention, resampling and tensor plumbing, each against the torch function it ports.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py compute_fixtures     # writes Tests/Fixtures/compute/

Inputs are not stored. Every input tensor is

    x = scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed))   (+ offset)

in float32 on the CPU, one generator per tensor, so the Swift side rebuilds it bit-exactly with
TorchRandomSource(seed:, kernel: .avx2): the float32 draw times Float(scale) (one float32 rounding;
`scale` is a JSON double, torch converts it to float32 the same way), and for the one case with a
`params.offset`, plus Float(offset) (a second float32 rounding). The script checks both
roundings against numpy and refuses to run unless torch uses its AVX2 kernels, whose `randn` is the
`.avx2` variant of TorchRandomSource.

The reference outputs are computed with torch 2.0.1 on one thread, in float32 unless said
otherwise, and stored as little-endian float32 .npy files (C order). A case with
`params.bfloat16_products` rounds its `x` and `weight` to bfloat16 first (`.to(torch.bfloat16)`,
to nearest even), then computes in float32: the products of the fast preset's bfloat16 scope.

Files written:
    <case>/<output>.npy     the reference outputs of each case
    numpy_dtypes/           `write_numpy_dtypes`: float64.npy, int64.npy (2 x 3, written by np.save
                            in those dtypes) and values.json (the same values as JSON numbers), for
                            NumPyFile's reading of numpy's other dtypes
    cases.json              a list of cases:
        {"name", "op", "description", "params": {...},
         "inputs": {"<argument>": {"shape": [...], "seed": int, "scale": float}, ...},
         "outputs": ["<output>", ...], "tolerance": {"nmse": float}}
    with nmse = sum((swift - reference)^2) / sum(reference^2) over the whole output.

Ops (the `op` string, its inputs -> outputs, its params; the reference):
    linear              x, weight [out, in], bias [out] (optional) -> y          F.linear
    conv2d              x [N,C,H,W], weight [O,C,kh,kw], bias [O] -> y; stride, padding, dilation    F.conv2d
    conv1d              x [N,C,L], weight [O,C,k], bias [O] -> y; stride, padding, dilation          F.conv1d
    conv_transpose1d    x [N,C,L], weight [C,O,k], bias [O] -> y; stride, padding, output_padding    F.conv_transpose1d
    group_norm          x, weight [C], bias [C] -> y; groups, eps, offset (optional)                 F.group_norm
    layer_norm          x, weight [D], bias [D] -> y (over the last dim); eps                        F.layer_norm
    silu, gelu, gelu_tanh, quick_gelu, tanh, softmax (last dim), leaky_relu (negative_slope)        x -> y
    geglu               x [..., 2D] -> y = a * gelu(g), a, g = x.chunk(2, -1)    (diffusers GEGLU)
    attention           q [B,H,Nq,D], k [B,H,Nk,D], v [B,H,Nk,Dv] -> y, probs; scale, causal
    upsample_nearest2d  x -> y; scale_factor                                   F.interpolate(nearest)
    interpolate_nearest x -> y; size [h, w]                                    F.interpolate(nearest)
    add, mul            a, b (broadcast) -> y
    permute             x -> y; axes                         concat   a, b -> y; axis
    slice               x -> y; axis, start, end (x.narrow(axis, start, end - start))

Attention: `y` is softmax(q k^T * scale [+ causal mask]) v computed in float64 from the float32
inputs and rounded once to float32 (the exact answer); the script also runs torch 2.0.1's
F.scaled_dot_product_attention (it has no `scale` argument and always uses 1/sqrt(D), so a
different scale would be folded into q; every case here uses 1/sqrt(D)) and asserts it agrees;
`probs` is the float64 softmax rounded to float32, [B,H,Nq,Nk]. `probs` is stored
only when Nq * Nk <= 20000 (not for attention_large, to keep the folder under 6 MB); the script
checks that SDPA agrees with `y` to nmse < 1e-10 in every case (it is about 1e-13).
With `causal`, query i sees keys j <= i (torch's `is_causal=True`, Nq == Nk).

interpolate_nearest: torch 2.0.1 picks source index min(floor(Float(i) * Float(in / out)), in - 1)
in float32 (with shortcuts for out == in and out == 2 in).
"""
import json
import math
import pathlib
import shutil

import numpy as np
import torch
import torch.nn.functional as F

EXACT = 1e-10   # elementwise ops, activations, data movement
NUMERIC = 1e-8  # reductions: linear, convolutions, normalisations, attention
PROBS_LIMIT = 20000  # store `probs` only when Nq * Nk <= this


# ---------------------------------------------------------------------------------------------
# The case plan
# ---------------------------------------------------------------------------------------------

def inp(shape, scale=1.0) -> dict:
    """An input spec; the seed is assigned later, in plan order."""
    return {"shape": list(shape), "scale": float(scale)}


def case(name, op, description, inputs, params=None, tolerance=NUMERIC) -> dict:
    return {"name": name, "op": op, "description": description, "params": params or {},
            "inputs": inputs, "tolerance": {"nmse": tolerance}}


def conv_params(stride=1, padding=0, dilation=1) -> dict:
    return {"stride": stride, "padding": padding, "dilation": dilation}


def attention_case(name, description, q, k, v, causal=False, qk_scale=2.0) -> dict:
    return case(name, "attention", description,
                {"q": inp(q, qk_scale), "k": inp(k, qk_scale), "v": inp(v, 1.0)},
                {"scale": 1.0 / math.sqrt(q[-1]), "causal": causal})


def plan() -> list[dict]:
    """Every case, in order. Seeds are assigned by `assign_seeds`."""
    cases = [
        # linear
        case("linear_small", "linear", "odd sizes, bias",
             {"x": inp((2, 7, 33)), "weight": inp((17, 33), 0.25), "bias": inp((17,), 0.5)}),
        case("linear_clip_to_unet", "linear", "77 CLIP tokens x 768 -> 320 (cross-attention k/v size)",
             {"x": inp((1, 77, 768)), "weight": inp((320, 768), 0.05), "bias": inp((320,), 0.5)}),
        case("linear_nobias", "linear", "2-D input, no bias",
             {"x": inp((3, 129)), "weight": inp((9, 129), 0.125)}),
        # conv2d
        case("conv2d_3x3_wide", "conv2d", "3x3 pad 1, width 129, 5 channels",
             {"x": inp((1, 5, 7, 129)), "weight": inp((6, 5, 3, 3), 0.25), "bias": inp((6,), 0.5)},
             conv_params(padding=1)),
        case("conv2d_3x3_stride2", "conv2d", "3x3 stride 2 pad 1 (diffusers Downsample2D), batch 2",
             {"x": inp((2, 4, 9, 16)), "weight": inp((8, 4, 3, 3), 0.25), "bias": inp((8,), 0.5)},
             conv_params(stride=2, padding=1)),
        case("conv2d_1x1_width1", "conv2d", "1x1, width 1, batch 2, 20 -> 13 channels",
             {"x": inp((2, 20, 7, 1)), "weight": inp((13, 20, 1, 1), 0.25), "bias": inp((13,), 0.5)},
             conv_params()),
        case("conv2d_3x3_dilation2", "conv2d", "3x3 dilation 2 pad 2",
             {"x": inp((1, 3, 11, 13)), "weight": inp((4, 3, 3, 3), 0.25), "bias": inp((4,), 0.5)},
             conv_params(padding=2, dilation=2)),
        case("conv2d_3x3_64ch", "conv2d", "3x3 pad 1, 64 -> 64 channels",
             {"x": inp((1, 64, 8, 32)), "weight": inp((64, 64, 3, 3), 0.0625), "bias": inp((64,), 0.5)},
             conv_params(padding=1)),
        # conv1d
        case("conv1d_k7", "conv1d", "k7 pad 3, length 129",
             {"x": inp((1, 16, 129)), "weight": inp((8, 16, 7), 0.125), "bias": inp((8,), 0.5)},
             conv_params(padding=3)),
        case("conv1d_k3_dilation3", "conv1d", "k3 dilation 3 pad 3, batch 2 (HiFi-GAN ResBlock)",
             {"x": inp((2, 8, 50)), "weight": inp((8, 8, 3), 0.25), "bias": inp((8,), 0.5)},
             conv_params(padding=3, dilation=3)),
        case("conv1d_k11_dilation5", "conv1d", "k11 dilation 5 pad 25",
             {"x": inp((1, 4, 64)), "weight": inp((4, 4, 11), 0.25), "bias": inp((4,), 0.5)},
             conv_params(padding=25, dilation=5)),
        case("conv1d_k1", "conv1d", "k1, 7 -> 3 channels, length 7",
             {"x": inp((1, 7, 7)), "weight": inp((3, 7, 1), 0.25), "bias": inp((3,), 0.5)},
             conv_params()),
    ]
    # conv_transpose1d (HiFi-GAN upsampling layers use k = 2 s, p = (k - s) / 2)
    for (k, s, p, op), x_shape, out in [((11, 5, 3, 0), (1, 16, 20), 8), ((8, 4, 2, 0), (2, 8, 13), 4),
                                        ((4, 2, 1, 0), (1, 4, 7), 2), ((3, 2, 1, 1), (1, 5, 9), 3)]:
        c = x_shape[1]
        cases.append(case(f"conv_transpose1d_k{k}_s{s}_p{p}_op{op}", "conv_transpose1d",
                          f"k{k} stride {s} pad {p} output_padding {op}, {c} -> {out} channels",
                          {"x": inp(x_shape), "weight": inp((c, out, k), 0.25), "bias": inp((out,), 0.5)},
                          {"stride": s, "padding": p, "output_padding": op}))
    cases += [
        # normalisations
        case("group_norm_32", "group_norm", "32 groups of 2 channels, batch 2 (diffusers ResnetBlock2D)",
             {"x": inp((2, 64, 7, 9)), "weight": inp((64,), 0.5), "bias": inp((64,), 0.5)},
             {"groups": 32, "eps": 1e-6}),
        case("group_norm_width1", "group_norm", "4 groups of 5 channels, height 1, width 129",
             {"x": inp((1, 20, 1, 129)), "weight": inp((20,), 0.5), "bias": inp((20,), 0.5)},
             {"groups": 4, "eps": 1e-5}),
        case("group_norm_offset", "group_norm", "one channel per group, x = 10 randn + 3",
             {"x": inp((1, 32, 5, 5), 10.0), "weight": inp((32,), 0.5), "bias": inp((32,), 0.5)},
             {"groups": 32, "eps": 1e-6, "offset": 3.0}),
        case("group_norm_large_offset", "group_norm",
             "x = randn + 100, 8 groups of 3 channels: catches a float32 E[x^2] - E[x]^2 variance",
             {"x": inp((2, 24, 3, 7)), "weight": inp((24,), 0.5), "bias": inp((24,), 0.5)},
             {"groups": 8, "eps": 1e-6, "offset": 100.0}),
        case("layer_norm_clip", "layer_norm", "77 tokens, 96 features, batch 2",
             {"x": inp((2, 77, 96)), "weight": inp((96,), 0.5), "bias": inp((96,), 0.5)},
             {"eps": 1e-5}),
        case("layer_norm_odd", "layer_norm", "33 features",
             {"x": inp((3, 5, 33)), "weight": inp((33,), 0.5), "bias": inp((33,), 0.5)},
             {"eps": 1e-5}),
    ]
    # activations
    act = (3, 7, 129)
    for name, op, params, scale, description in [
        ("silu", "silu", {}, 3.0, "x * sigmoid(x)"),
        ("gelu", "gelu", {}, 3.0, "erf GELU"),
        ("gelu_tanh", "gelu_tanh", {}, 3.0, "F.gelu(approximate='tanh')"),
        ("quick_gelu", "quick_gelu", {}, 3.0, "x * sigmoid(1.702 x) (CLIP)"),
        ("leaky_relu_0p1", "leaky_relu", {"negative_slope": 0.1}, 3.0, "HiFi-GAN LRELU_SLOPE"),
        ("leaky_relu_0p01", "leaky_relu", {"negative_slope": 0.01}, 3.0, "torch default slope"),
        ("tanh", "tanh", {}, 3.0, "tanh"),
        ("softmax", "softmax", {}, 30.0, "softmax over the last dim, x scale 30 (overflow without max subtraction)"),
    ]:
        cases.append(case(name, op, description, {"x": inp(act, scale)}, params, EXACT))
    cases += [
        case("geglu", "geglu", "a * gelu(g), a, g = x.chunk(2, -1), D = 40",
             {"x": inp((2, 9, 80), 2.0)}, {}, EXACT),
        # attention
        attention_case("attention_self", "UNet self-attention, 77 tokens, 8 heads of 40",
                       (1, 8, 77, 40), (1, 8, 77, 40), (1, 8, 77, 40)),
        attention_case("attention_cross", "cross-attention, 256 queries on 77 keys",
                       (1, 8, 256, 40), (1, 8, 77, 40), (1, 8, 77, 40)),
        attention_case("attention_large", "self-attention, 4096 tokens, 2 heads of 40 (no probs)",
                       (1, 2, 4096, 40), (1, 2, 4096, 40), (1, 2, 4096, 40), qk_scale=1.0),
        attention_case("attention_odd", "3 heads, D 5, Dv 7, 7 tokens",
                       (1, 3, 7, 5), (1, 3, 7, 5), (1, 3, 7, 7)),
        attention_case("attention_causal", "causal mask (CLIP text encoder), 9 tokens",
                       (1, 2, 9, 16), (1, 2, 9, 16), (1, 2, 9, 16), causal=True),
        # resampling
        case("upsample_nearest2d", "upsample_nearest2d", "F.interpolate(scale_factor=2, mode='nearest')",
             {"x": inp((1, 3, 5, 7))}, {"scale_factor": 2}, EXACT),
        case("interpolate_nearest_16x24", "interpolate_nearest", "(16, 24) -> (4, 6)",
             {"x": inp((1, 1, 16, 24))}, {"size": [4, 6]}, EXACT),
        case("interpolate_nearest_10x13", "interpolate_nearest", "(10, 13) -> (4, 5), fractional ratios",
             {"x": inp((1, 1, 10, 13))}, {"size": [4, 5]}, EXACT),
        case("interpolate_nearest_256x64", "interpolate_nearest", "(256, 64) -> (32, 8)",
             {"x": inp((1, 1, 256, 64))}, {"size": [32, 8]}, EXACT),
        # broadcasting arithmetic
        case("add_channel", "add", "(2,3,4,5) + (3,1,1)",
             {"a": inp((2, 3, 4, 5)), "b": inp((3, 1, 1))}, {}, EXACT),
        case("mul_broadcast", "mul", "(2,3,4,5) * (1,3,1,5)",
             {"a": inp((2, 3, 4, 5)), "b": inp((1, 3, 1, 5))}, {}, EXACT),
        case("add_outer", "add", "(4,1) + (1,6)",
             {"a": inp((4, 1)), "b": inp((1, 6))}, {}, EXACT),
        # data movement
        case("permute", "permute", "NCHW -> NHWC", {"x": inp((2, 3, 4, 5))}, {"axes": [0, 2, 3, 1]}, EXACT),
        case("concat", "concat", "axis 1", {"a": inp((2, 3, 4)), "b": inp((2, 5, 4))}, {"axis": 1}, EXACT),
        case("slice", "slice", "axis 1, [2, 7)", {"x": inp((2, 9, 4))}, {"axis": 1, "start": 2, "end": 7}, EXACT),
        # conv2d through Winograd F(2x2, 3x3) (3x3, stride 1, >= 256 output positions); appended
        # last so that the seeds of the cases above stay as they were
        case("conv2d_3x3_winograd_odd", "conv2d",
             "3x3 pad 1, batch 2, odd 9 x 33 plane: partial tiles at the bottom and right, 17 tile columns",
             {"x": inp((2, 13, 9, 33)), "weight": inp((11, 13, 3, 3), 0.25), "bias": inp((11,), 0.5)},
             conv_params(padding=1)),
        case("conv2d_3x3_winograd_unpadded", "conv2d", "3x3 pad 0, 20 x 40 -> 18 x 38, no bias",
             {"x": inp((1, 7, 20, 40)), "weight": inp((5, 7, 3, 3), 0.25)},
             conv_params()),
        # bfloat16 products (the fast preset's --products bfloat16): x and the weight rounded by
        # torch's own .to(torch.bfloat16), the product summed in float32, the bias added as is.
        # Appended last, as above. The Winograd test leaves them out by their flag (and their names avoid "3x3").
        case("bf16_linear_odd", "linear", "bfloat16 products: odd sizes and an odd depth, bias",
             {"x": inp((2, 45, 333)), "weight": inp((77, 333), 0.05), "bias": inp((77,), 0.5)},
             {"bfloat16_products": True}),
        case("bf16_conv2d_k3_pad1", "conv2d", "bfloat16 products: 3 x 3 pad 1, 35 -> 30 channels, 20 x 64 plane",
             {"x": inp((1, 35, 20, 64)), "weight": inp((30, 35, 3, 3), 0.0625), "bias": inp((30,), 0.5)},
             {**conv_params(padding=1), "bfloat16_products": True}),
    ]
    return cases


def assign_seeds(cases: list[dict]) -> None:
    """Case i gets seeds 1000 + 10 i, 1000 + 10 i + 1, ... for its inputs, in argument order."""
    for index, entry in enumerate(cases):
        assert len(entry["inputs"]) < 10
        for position, spec in enumerate(entry["inputs"].values()):
            spec["seed"] = 1000 + 10 * index + position


# ---------------------------------------------------------------------------------------------
# Inputs and reference ops
# ---------------------------------------------------------------------------------------------

def make_input(spec: dict, offset: float | None) -> torch.Tensor:
    """scale * randn(shape) (+ offset), checked against the same float32 arithmetic in numpy."""
    draw = torch.randn(spec["shape"], generator=torch.Generator().manual_seed(spec["seed"]),
                       dtype=torch.float32)
    x = spec["scale"] * draw
    expected = draw.numpy() * np.float32(spec["scale"])
    if offset is not None:
        x = x + offset
        expected = expected + np.float32(offset)
    assert x.dtype == torch.float32 and np.array_equal(x.numpy(), expected)
    return x


def attention(q, k, v, params) -> dict:
    """Exact float64 attention, torch 2.0.1 SDPA, and (small cases) the probabilities."""
    scale, causal = params["scale"], params["causal"]
    depth = q.shape[-1]
    scores = q.double() @ k.double().transpose(-2, -1) * scale
    if causal:
        nq, nk = scores.shape[-2:]
        assert nq == nk
        mask = torch.ones(nq, nk, dtype=torch.bool).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    outputs = {"y": (probs @ v.double()).float()}
    # torch 2.0.1's SDPA always scales by 1/sqrt(D): fold any other scale into q.
    fold = scale * math.sqrt(depth)
    q_sdpa = q if math.isclose(fold, 1.0, rel_tol=1e-12) else q * fold
    y_sdpa = F.scaled_dot_product_attention(q_sdpa, k, v, is_causal=causal)
    agreement = nmse(y_sdpa, outputs["y"])
    assert agreement < 1e-10, agreement
    print(f"    nmse(F.scaled_dot_product_attention, float64 attention) = {agreement:.2e}")
    if scores.shape[-2] * scores.shape[-1] <= PROBS_LIMIT:  # the large case would pass 6 MB
        outputs["probs"] = probs.float()
    return outputs


def nearest_size(x, params):
    return F.interpolate(x, size=tuple(params["size"]), mode="nearest")


OPS = {
    "linear": lambda i, p: F.linear(i["x"], i["weight"], i.get("bias")),
    "conv2d": lambda i, p: F.conv2d(i["x"], i["weight"], i.get("bias"), stride=p["stride"],
                                    padding=p["padding"], dilation=p["dilation"]),
    "conv1d": lambda i, p: F.conv1d(i["x"], i["weight"], i["bias"], stride=p["stride"],
                                    padding=p["padding"], dilation=p["dilation"]),
    "conv_transpose1d": lambda i, p: F.conv_transpose1d(i["x"], i["weight"], i["bias"],
                                                        stride=p["stride"], padding=p["padding"],
                                                        output_padding=p["output_padding"]),
    "group_norm": lambda i, p: F.group_norm(i["x"], p["groups"], i["weight"], i["bias"], eps=p["eps"]),
    "layer_norm": lambda i, p: F.layer_norm(i["x"], i["x"].shape[-1:], i["weight"], i["bias"], eps=p["eps"]),
    "silu": lambda i, p: F.silu(i["x"]),
    "gelu": lambda i, p: F.gelu(i["x"]),
    "gelu_tanh": lambda i, p: F.gelu(i["x"], approximate="tanh"),
    "quick_gelu": lambda i, p: i["x"] * torch.sigmoid(1.702 * i["x"]),  # transformers QuickGELUActivation
    "leaky_relu": lambda i, p: F.leaky_relu(i["x"], p["negative_slope"]),
    "tanh": lambda i, p: torch.tanh(i["x"]),
    "softmax": lambda i, p: torch.softmax(i["x"], dim=-1),
    "geglu": lambda i, p: (lambda a, g: a * F.gelu(g))(*i["x"].chunk(2, dim=-1)),
    "attention": lambda i, p: attention(i["q"], i["k"], i["v"], p),
    "upsample_nearest2d": lambda i, p: F.interpolate(i["x"], scale_factor=p["scale_factor"], mode="nearest"),
    "interpolate_nearest": lambda i, p: nearest_size(i["x"], p),
    "add": lambda i, p: i["a"] + i["b"],
    "mul": lambda i, p: i["a"] * i["b"],
    "permute": lambda i, p: i["x"].permute(*p["axes"]),
    "concat": lambda i, p: torch.cat([i["a"], i["b"]], dim=p["axis"]),
    "slice": lambda i, p: i["x"].narrow(p["axis"], p["start"], p["end"] - p["start"]),
}


def nmse(value: torch.Tensor, reference: torch.Tensor) -> float:
    value, reference = value.double(), reference.double()
    return float(((value - reference) ** 2).sum() / (reference ** 2).sum())


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def save_array(path: pathlib.Path, array: np.ndarray) -> None:
    """Writes `array` as a C-order little-endian float32 .npy file."""
    np.save(path, np.ascontiguousarray(array, dtype="<f4"))


def write_numpy_dtypes(out_dir: pathlib.Path) -> None:
    """numpy_dtypes/ (module docstring): values that need their dtype (a float64 below float32's
    smallest normal, one above 2**24 that float32 rounds; an int64 beyond 2**32)."""
    folder = out_dir / "numpy_dtypes"
    folder.mkdir()
    values = {"float64": [[0.1, -2.5, 1e-40], [3.141592653589793, 16777217.0, -0.0]],
              "int64": [[-3, 0, 7], [4294967297, -(2 ** 40), 123456789]]}
    for dtype, rows in values.items():
        np.save(folder / f"{dtype}.npy", np.array(rows, dtype=f"<{dtype[0]}8"))
    (folder / "values.json").write_text(json.dumps(values) + "\n")


def check_capability() -> None:
    """The inputs are only reproducible by TorchRandomSource(.avx2) if torch runs its AVX2 kernels."""
    reported = [line for line in torch.__config__.show().splitlines() if "CPU capability usage" in line]
    if not reported or not reported[0].strip().endswith("AVX2"):
        raise RuntimeError("compute fixtures need torch's AVX2 kernels (randn = TorchRandomSource "
                           f".avx2); run with ATEN_CPU_CAPABILITY=avx2. torch reports {reported}")


def generate(out_dir: pathlib.Path) -> None:
    """Writes every compute fixture into `out_dir` (Tests/Fixtures/compute/)."""
    check_capability()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: bit-identical reruns regardless of the machine
    try:
        for stale in out_dir.iterdir():
            if stale.is_dir():
                shutil.rmtree(stale)
        cases = plan()
        assign_seeds(cases)
        names = [entry["name"] for entry in cases]
        assert len(set(names)) == len(names)
        for entry in cases:
            offset = entry["params"].get("offset")
            tensors = {name: make_input(spec, offset if name == "x" else None)
                       for name, spec in entry["inputs"].items()}
            if entry["params"].get("bfloat16_products"):
                tensors = {name: value.to(torch.bfloat16).float() if name in ("x", "weight") else value
                           for name, value in tensors.items()}
            if entry["op"] == "attention":
                print(f"  {entry['name']}")
            with torch.no_grad():
                result = OPS[entry["op"]](tensors, entry["params"])
            outputs = result if isinstance(result, dict) else {"y": result}
            folder = out_dir / entry["name"]
            folder.mkdir()
            for name, value in outputs.items():
                assert value.dtype == torch.float32 and torch.isfinite(value).all(), entry["name"]
                save_array(folder / f"{name}.npy", value.contiguous().numpy())
            entry["outputs"] = list(outputs)
        write_numpy_dtypes(out_dir)
        keys = ("name", "op", "description", "params", "inputs", "outputs", "tolerance")
        (out_dir / "cases.json").write_text(
            json.dumps([{key: entry[key] for key in keys} for entry in cases], indent=1) + "\n")
    finally:
        torch.set_num_threads(threads)
