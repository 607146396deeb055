"""Golden fixtures for the random source (spec section 9, "RNG"): `torch.randn` on the CPU.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py random_fixtures     # writes Tests/Fixtures/random/

Every case creates one generator, `g = torch.Generator().manual_seed(seed)`, and then draws
`torch.randn(shape, generator=g)` (float32, CPU) once per entry of its draw list, in order, so the
multi-draw cases also pin down the state a generator carries between calls (MT19937 position and
the cached second Box-Muller sample of the scalar path used below 16 elements).

torch samples tensors of 16 or more elements with `normal_fill_AVX2` on x86-64 CPUs with AVX2 and
with the libm-based `normal_fill` otherwise, and the two differ in the last bits. The capability
is chosen once per process, so each kernel is drawn in its own child process with
`ATEN_CPU_CAPABILITY` set ("avx2" -> Swift `.avx2`, "default" -> Swift `.portable`), and the child
checks that torch really used it.

Files written (little-endian float32 .npy, C order):
    seed<s>_<shape>.npy      single-draw cases, e.g. seed42_1x4x32x128.npy
    <case>_<i>_<shape>.npy   draw i of a multi-draw case, e.g. sequence_seed42_1_1x4x32x128.npy
    cases.json               per case: name, seed (decimal string: seeds reach 2**64 - 1), kernel,
                             torch capability, and the draws in order (shape, file)
"""
import json
import os
import pathlib
import subprocess
import sys

LATENTS = (1, 4, 32, 128)  # Auffusion's latent shape for a 10.24 s clip

# kernel -> (ATEN_CPU_CAPABILITY to request, what torch.__config__.show() must report)
KERNELS = {"avx2": ("avx2", "AVX2"), "portable": ("default", "NO AVX")}


def cases() -> list[dict]:
    """The draw plan: name, seed, kernel and the shapes drawn in order from one generator."""
    plan = []
    for seed in (0, 42, 2**32 - 1):
        for shape in (LATENTS, (7,), (3, 5)):
            plan.append({"name": f"seed{seed}_{shape_tag(shape)}", "seed": seed, "kernel": "avx2",
                         "shapes": [shape]})
    # One generator, several calls: (3,5) leaves a cached scalar sample, the latents draw does not
    # touch it, (7,) starts from it, (40,) redraws its last 16 slots, (1,) (1,) fill and use the cache.
    plan.append({"name": "sequence_seed42", "seed": 42, "kernel": "avx2",
                 "shapes": [(3, 5), LATENTS, (7,), (40,), (1,), (1,)]})
    # Around the 16-element switch and the tail redraw of the vectorised path; empty and 0-d tensors.
    plan.append({"name": "boundaries_seed0", "seed": 0, "kernel": "avx2",
                 "shapes": [(15,), (0,), (16,), (17,), (), (2, 16), (33,)]})
    # 64-bit seeds: only the low 32 bits seed MT19937.
    plan.append({"name": "seed_2pow32_plus_42", "seed": 2**32 + 42, "kernel": "avx2",
                 "shapes": [(3, 5), (1, 4, 8, 16)]})
    plan.append({"name": "seed_2pow64_minus_1", "seed": 2**64 - 1, "kernel": "avx2",
                 "shapes": [(7,), (1, 4, 8, 16)]})
    # torch without AVX2 (aarch64, ATEN_CPU_CAPABILITY=default): libm log/sin/cos.
    plan.append({"name": "portable_seed42", "seed": 42, "kernel": "portable",
                 "shapes": [LATENTS, (40,), (3, 5)]})
    return plan


def shape_tag(shape) -> str:
    return "x".join(str(d) for d in shape) if shape else "scalar"


def draw_cases(kernel: str, out_dir: pathlib.Path) -> list[dict]:
    """Child process: draws every case of `kernel`, saves the arrays, returns their entries."""
    import numpy as np
    import torch

    expected = KERNELS[kernel][1]
    reported = [line for line in torch.__config__.show().splitlines() if "CPU capability usage" in line]
    if not reported or not reported[0].strip().endswith(expected):
        raise RuntimeError(f"torch did not use the {kernel} kernel (wanted '{expected}'): {reported}")

    entries = []
    for case in cases():
        if case["kernel"] != kernel:
            continue
        generator = torch.Generator().manual_seed(case["seed"])
        draws = []
        for index, shape in enumerate(case["shapes"]):
            values = torch.randn(shape, generator=generator, dtype=torch.float32).numpy()
            assert values.dtype == np.float32 and values.shape == tuple(shape)
            single = len(case["shapes"]) == 1
            name = f"{case['name']}.npy" if single else f"{case['name']}_{index}_{shape_tag(shape)}.npy"
            np.save(out_dir / name, np.array(values, dtype="<f4", order="C"))  # np.ascontiguousarray would turn 0-d into 1-d
            draws.append({"shape": list(shape), "file": name})
        entries.append({"name": case["name"], "seed": str(case["seed"]), "kernel": kernel,
                        "capability": expected, "draws": draws})
    return entries


def generate(out_dir: pathlib.Path) -> None:
    """Writes every random-source fixture into `out_dir` (Tests/Fixtures/random/)."""
    for stale in out_dir.glob("*.npy"):
        stale.unlink()
    entries = []
    for kernel, (capability, _) in KERNELS.items():
        env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
        result = subprocess.run([sys.executable, __file__, kernel, str(out_dir)], env=env,
                                check=True, stdout=subprocess.PIPE, text=True)
        entries += json.loads(result.stdout)
    (out_dir / "cases.json").write_text(json.dumps({
        "note": "GENERATED by scripts/reference/random_fixtures.py - DO NOT EDIT",
        "reference": "g = torch.Generator().manual_seed(seed); torch.randn(shape, generator=g) "
                     "for each draw in order (float32, CPU)",
        "cases": entries,
    }, indent=1) + "\n")


if __name__ == "__main__":
    print(json.dumps(draw_cases(sys.argv[1], pathlib.Path(sys.argv[2]))))
