"""Golden fixtures for the schedulers (Sources/Schedulers; spec sections 6 and 7.3): diffusers 0.18.2
PNDMScheduler (PLMS), DDIMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler and
UniPCMultistepScheduler.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py schedulers_fixtures     # writes Tests/Fixtures/schedulers/

Every scheduler is built the way the Swift side builds it: `cls.from_config(config)` on a
scheduler_config.json dictionary (most cases start from Auffusion's PNDM config, spec 6.1, so the
other schedulers see its keys and fall back to *their own* defaults for the rest), plus the
overrides a CLI name implies (dpm++2m: algorithm_type dpmsolver++, solver_order 2,
use_karras_sigmas false; dpm++2m-karras: use_karras_sigmas true; unipc: none, the pure swap).

Trajectories run the loop of diffusers' Stable Diffusion pipelines on a stand-in model

    eps(x, t) = c(t) * x + 0.05 * x / (1 + x * x),   c(t) = 0.1 * sin(float32(t) / 100)

where c(t) is computed in double (Python `math.sin`) and then used as a float32 scalar, and every
tensor operation is a float32 element-wise op. float32(t) is what the U-Net sees (it casts timesteps
to float32). The model avoids element-wise transcendental functions on purpose: torch evaluates
them with Sleef, so any difference left is the scheduler's.

    text-to-audio: g = torch.Generator().manual_seed(seed)
                   x = torch.randn([1, 4, 8, 16], generator=g) * init_noise_sigma
    img2img:       timesteps sliced as StableDiffusionImg2ImgPipeline.get_timesteps(steps, strength)
                   z0 = randn(g); noise = randn(g); x = add_noise(z0, noise, timesteps[:1])
    loop:          for t in timesteps: x = step(eps(scale_model_input(x, t), t), t, x, generator=g[, eta])

The same generator `g` feeds the steps that draw (DDIM with eta > 0; Euler draws every step), as the
pipelines pass it. Latents are not stored; the Swift tests redraw them with TorchRandomSource
(the script refuses to run unless torch uses its AVX2 kernels).

Files written (little-endian float32 .npy, C order):
    <case>.npy          trajectory snapshots [len(snapshots), 1, 4, 8, 16]; snapshot -1 is the
                        initial latents, i >= 0 the sample after step i
    alphas_<name>.npy   betas and alphas_cumprod of a beta schedule, [2, num_train_timesteps]
    add_noise_<name>.npy  add_noise results [len(timesteps), 1, 4, 8, 16]
    cases.json          {"alphas": [...], "timesteps": [...], "trajectories": [...], "add_noise": [...]}
        every entry has "name", "kind" (Swift SchedulerKind raw value), "config" (the JSON given
        to from_config, overrides included), and for schedules "steps", "strength" (null for the
        full schedule) and "timesteps" (exactly as diffusers gives them, as numbers);
        Euler entries add "sigmas" (float32 values); all add "init_noise_sigma". Trajectories add
        "eta", "seed", "snapshots", "file" and "next_draw": torch.randn(16, generator=g) after
        the run, which shows how far the steps advanced the generator.
"""
import json
import math
import pathlib

import numpy as np
import torch
from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler, PNDMScheduler,
                       UniPCMultistepScheduler)

SHAPE = (1, 4, 8, 16)

# Auffusion's scheduler/scheduler_config.json (spec 6.1): the Stable Diffusion 1.x PNDM config.
AUFFUSION = {
    "_class_name": "PNDMScheduler", "_diffusers_version": "0.18.2",
    "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
    "num_train_timesteps": 1000, "prediction_type": "epsilon", "set_alpha_to_one": False,
    "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": None,
}
SCALED = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}
# The embedded model's scheduler config (docs/mini-model.md): PNDM settings on a linear schedule to
# 0.04, v_prediction. UniPC is the fast preset for it.
MINI = json.loads((pathlib.Path(__file__).resolve().parents[2] / "Sources" / "Pipeline" / "Resources" /
                   "auffusion-mini" / "scheduler" / "scheduler_config.json").read_text())

CLASSES = {"pndm": PNDMScheduler, "ddim": DDIMScheduler, "dpm++2m": DPMSolverMultistepScheduler,
           "dpm++2m-karras": DPMSolverMultistepScheduler, "euler": EulerDiscreteScheduler,
           "unipc": UniPCMultistepScheduler}
OVERRIDES = {"dpm++2m": {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False},
             "dpm++2m-karras": {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}}


def build(kind: str, config: dict):
    return CLASSES[kind].from_config(dict(config), **OVERRIDES.get(kind, {}))


def with_keys(base: dict, **keys) -> dict:
    return {**base, **keys}


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------

def schedule_plan() -> list[dict]:
    """Timestep lists only (cheap): every spacing, odd step counts, img2img strengths."""
    plan = []

    def add(name, kind, config, steps, strength=None):
        plan.append({"name": name, "kind": kind, "config": config, "steps": steps, "strength": strength})

    for kind in CLASSES:
        for steps in (1, 7, 10, 25, 50, 100):
            add(f"{kind}_auffusion_{steps}", kind, AUFFUSION, steps)
        for spacing in ("leading", "linspace", "trailing"):
            for steps in (7, 10, 33):
                add(f"{kind}_{spacing}_{steps}", kind, {**SCALED, "timestep_spacing": spacing, "steps_offset": 1, "skip_prk_steps": True}, steps)
        for steps in (25, 100):
            for strength in (1.0, 0.7, 0.3, 0.0, 0.55, 0.01):
                add(f"{kind}_auffusion_{steps}_strength{strength}", kind, AUFFUSION, steps, strength)
    # Spec 7.3: the PNDM list for every strength of the img2img notebook.
    for strength in (0.0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7):
        add(f"pndm_auffusion_100_notebook_strength{strength}", "pndm", AUFFUSION, 100, strength)
    add("pndm_1000", "pndm", AUFFUSION, 1000)
    add("ddim_1000", "ddim", AUFFUSION, 1000)
    # Karras timesteps (DPM rounds and removes duplicates; Euler keeps fractions).
    for kind in ("dpm++2m-karras", "euler"):
        config = with_keys(AUFFUSION, use_karras_sigmas=True)
        for steps in (5, 10, 25, 100, 500, 1000):
            add(f"{kind}_karras_{steps}", kind, config, steps)
    # DPM-Solver's own defaults (linspace) and a clipped lambda range.
    add("dpm_defaults_20", "dpm++2m", {**SCALED, "_class_name": "DPMSolverMultistepScheduler"}, 20)
    add("dpm_lambda_clipped_25", "dpm++2m",
        {"beta_schedule": "squaredcos_cap_v2", "lambda_min_clipped": -5.1}, 25)
    add("dpm_lambda_clipped_trailing_10", "dpm++2m",
        {"beta_schedule": "squaredcos_cap_v2", "lambda_min_clipped": -5.1, "timestep_spacing": "trailing"}, 10)
    add("euler_trailing_25", "euler", {**SCALED, "timestep_spacing": "trailing"}, 25)
    add("unipc_defaults_20", "unipc", {**SCALED, "_class_name": "UniPCMultistepScheduler"}, 20)
    add("unipc_mini_15", "unipc", MINI, 15)
    return plan


def trajectory_plan() -> list[dict]:
    """Full denoising runs."""
    plan = []
    seed = [100]

    def add(name, kind, config, steps, strength=None, eta=0.0):
        seed[0] += 1
        plan.append({"name": name, "kind": kind, "config": config, "steps": steps, "strength": strength,
                     "eta": eta, "seed": seed[0]})

    for steps in (10, 25, 100):
        add(f"pndm_auffusion_{steps}", "pndm", AUFFUSION, steps)
    for strength in (0.7, 0.3, 0.0):
        add(f"pndm_auffusion_100_strength{strength}", "pndm", AUFFUSION, 100, strength)
        add(f"pndm_auffusion_25_strength{strength}", "pndm", AUFFUSION, 25, strength)
    add("pndm_linspace_10", "pndm", {**SCALED, "skip_prk_steps": True, "timestep_spacing": "linspace"}, 10)
    add("pndm_vprediction_10", "pndm", with_keys(AUFFUSION, prediction_type="v_prediction"), 10)

    for steps in (10, 25):
        add(f"ddim_auffusion_{steps}", "ddim", AUFFUSION, steps)
    add("ddim_auffusion_25_eta0.5", "ddim", AUFFUSION, 25, eta=0.5)
    add("ddim_auffusion_10_eta1", "ddim", AUFFUSION, 10, eta=1.0)
    for strength in (0.7, 0.3):
        add(f"ddim_auffusion_25_strength{strength}", "ddim", AUFFUSION, 25, strength)
    add("ddim_defaults_clip_10", "ddim", {"_class_name": "DDIMScheduler"}, 10)  # clip_sample, set_alpha_to_one
    add("ddim_clip_range_0.5_10", "ddim", with_keys(AUFFUSION, clip_sample=True, clip_sample_range=0.5), 10)
    add("ddim_vprediction_10", "ddim", with_keys(AUFFUSION, prediction_type="v_prediction"), 10)
    add("ddim_sample_10", "ddim", with_keys(AUFFUSION, prediction_type="sample"), 10)
    add("ddim_trailing_10", "ddim", {**SCALED, "timestep_spacing": "trailing"}, 10)

    for steps in (10, 25, 100):
        add(f"dpm_auffusion_{steps}", "dpm++2m", AUFFUSION, steps)
    for strength in (0.7, 0.3):
        add(f"dpm_auffusion_25_strength{strength}", "dpm++2m", AUFFUSION, 25, strength)
    for steps in (10, 25):
        add(f"dpm_karras_{steps}", "dpm++2m-karras", AUFFUSION, steps)
    add("dpm_heun_10", "dpm++2m", with_keys(AUFFUSION, solver_type="heun"), 10)
    add("dpm_heun_25", "dpm++2m", with_keys(AUFFUSION, solver_type="heun"), 25)
    add("dpm_no_lower_order_final_10", "dpm++2m", with_keys(AUFFUSION, lower_order_final=False), 10)
    add("dpm_first_order_10", "dpm++2m", with_keys(AUFFUSION, solver_order=1), 10)
    add("dpm_defaults_20", "dpm++2m", {**SCALED, "_class_name": "DPMSolverMultistepScheduler"}, 20)
    add("dpm_vprediction_10", "dpm++2m", with_keys(AUFFUSION, prediction_type="v_prediction"), 10)
    add("dpm_sample_10", "dpm++2m", with_keys(AUFFUSION, prediction_type="sample"), 10)

    for steps in (10, 25):
        add(f"euler_auffusion_{steps}", "euler", AUFFUSION, steps)
    add("euler_auffusion_25_strength0.7", "euler", AUFFUSION, 25, 0.7)
    add("euler_linspace_25", "euler", {**SCALED, "_class_name": "EulerDiscreteScheduler"}, 25)
    add("euler_karras_25", "euler", with_keys(AUFFUSION, use_karras_sigmas=True), 25)
    add("euler_trailing_10", "euler", {**SCALED, "timestep_spacing": "trailing"}, 10)
    add("euler_vprediction_10", "euler", with_keys(AUFFUSION, prediction_type="v_prediction"), 10)
    add("euler_sample_10", "euler", with_keys(AUFFUSION, prediction_type="sample"), 10)

    # UniPC: the fast preset's step counts on Auffusion's config (epsilon) and the embedded model's
    # (v_prediction), then every setting the port takes.
    for steps in (10, 15, 25, 100):
        add(f"unipc_auffusion_{steps}", "unipc", AUFFUSION, steps)
    for steps in (10, 15, 25):
        add(f"unipc_mini_{steps}", "unipc", MINI, steps)
    for strength in (0.7, 0.3):
        add(f"unipc_auffusion_25_strength{strength}", "unipc", AUFFUSION, 25, strength)
    add("unipc_mini_15_strength0.5", "unipc", MINI, 15, 0.5)
    add("unipc_bh1_10", "unipc", with_keys(AUFFUSION, solver_type="bh1"), 10)
    add("unipc_midpoint_10", "unipc", with_keys(AUFFUSION, solver_type="midpoint"), 10)
    add("unipc_first_order_10", "unipc", with_keys(AUFFUSION, solver_order=1), 10)
    add("unipc_third_order_10", "unipc", with_keys(AUFFUSION, solver_order=3), 10)
    add("unipc_third_order_mini_25", "unipc", with_keys(MINI, solver_order=3), 25)
    add("unipc_no_lower_order_final_10", "unipc", with_keys(AUFFUSION, lower_order_final=False), 10)
    add("unipc_disable_corrector_10", "unipc", with_keys(AUFFUSION, disable_corrector=[0, 1, 5]), 10)
    add("unipc_noise_prediction_10", "unipc", with_keys(AUFFUSION, predict_x0=False), 10)
    add("unipc_noise_prediction_mini_10", "unipc", with_keys(MINI, predict_x0=False), 10)
    add("unipc_noise_prediction_bh1_third_order_10", "unipc",
        with_keys(AUFFUSION, predict_x0=False, solver_type="bh1", solver_order=3), 10)
    add("unipc_sample_10", "unipc", with_keys(AUFFUSION, prediction_type="sample"), 10)
    add("unipc_noise_prediction_sample_10", "unipc", with_keys(AUFFUSION, prediction_type="sample", predict_x0=False), 10)
    add("unipc_defaults_20", "unipc", {**SCALED, "_class_name": "UniPCMultistepScheduler"}, 20)
    add("unipc_trailing_10", "unipc", {**SCALED, "timestep_spacing": "trailing"}, 10)
    return plan


ALPHA_CASES = {
    "scaled_linear": AUFFUSION,
    "linear": {},
    "squaredcos_cap_v2": {"beta_schedule": "squaredcos_cap_v2"},
    "linear_100": {"num_train_timesteps": 100, "beta_start": 0.001, "beta_end": 0.03},
    "scaled_linear_37": {**SCALED, "num_train_timesteps": 37},
    "trained_betas_50": {"num_train_timesteps": 50,
                         "trained_betas": [round(0.0001 + 0.0004 * i + 0.00001 * i * i, 8) for i in range(50)]},
}


# ---------------------------------------------------------------------------------------------
# The reference loop
# ---------------------------------------------------------------------------------------------

def model(x: torch.Tensor, t) -> torch.Tensor:
    """The stand-in denoiser (see the module docstring)."""
    c = 0.1 * math.sin(float(np.float32(float(t))) / 100.0)
    return c * x + 0.05 * x / (1 + x * x)


def img2img_timesteps(scheduler, steps: int, strength: float) -> torch.Tensor:
    """StableDiffusionImg2ImgPipeline.get_timesteps (pipeline_stable_diffusion_img2img.py)."""
    init_timestep = min(int(steps * strength), steps)
    t_start = max(steps - init_timestep, 0)
    return scheduler.timesteps[t_start * scheduler.order:]


def step_kwargs(scheduler, generator, eta: float) -> dict:
    """StableDiffusionPipeline.prepare_extra_step_kwargs."""
    import inspect
    accepted = set(inspect.signature(scheduler.step).parameters)
    kwargs = {}
    if "eta" in accepted:
        kwargs["eta"] = eta
    if "generator" in accepted:
        kwargs["generator"] = generator
    return kwargs


def schedule_of(entry: dict):
    scheduler = build(entry["kind"], entry["config"])
    scheduler.set_timesteps(entry["steps"])
    if entry["strength"] is None:
        timesteps = scheduler.timesteps
    else:
        timesteps = img2img_timesteps(scheduler, entry["steps"], entry["strength"])
    return scheduler, timesteps


def describe_schedule(entry: dict, scheduler, timesteps) -> dict:
    out = {key: entry[key] for key in ("name", "kind", "config", "steps", "strength")}
    out["timesteps"] = [float(t) if timesteps.dtype.is_floating_point else int(t) for t in timesteps]
    out["init_noise_sigma"] = float(scheduler.init_noise_sigma)
    if isinstance(scheduler, EulerDiscreteScheduler):
        assert scheduler.sigmas.dtype == torch.float32
        out["sigmas"] = [float(s) for s in scheduler.sigmas]
    return out


def run_trajectory(entry: dict, out_dir: pathlib.Path) -> dict:
    scheduler, timesteps = schedule_of(entry)
    generator = torch.Generator().manual_seed(entry["seed"])
    if entry["strength"] is None:
        x = torch.randn(SHAPE, generator=generator, dtype=torch.float32) * scheduler.init_noise_sigma
    else:
        assert len(timesteps) > 0, entry["name"]
        original = torch.randn(SHAPE, generator=generator, dtype=torch.float32)
        noise = torch.randn(SHAPE, generator=generator, dtype=torch.float32)
        x = scheduler.add_noise(original, noise, timesteps[:1])
    count = len(timesteps)
    snapshots = sorted({-1, 0, 1, 2, 3, 4, count // 2, count - 1} & set(range(-1, count)))
    saved = [x] if -1 in snapshots else []
    kwargs = step_kwargs(scheduler, generator, entry["eta"])
    for index, t in enumerate(timesteps):
        model_input = scheduler.scale_model_input(x, t)
        x = scheduler.step(model(model_input, t), t, x, **kwargs).prev_sample
        assert x.dtype == torch.float32 and torch.isfinite(x).all(), entry["name"]
        if index in snapshots:
            saved.append(x)
    np.save(out_dir / f"{entry['name']}.npy", np.ascontiguousarray(torch.stack(saved).numpy(), dtype="<f4"))
    out = describe_schedule(entry, scheduler, timesteps)
    # Where the run left the generator: which steps drew (DDIM with eta > 0, every Euler step).
    next_draw = [float(v) for v in torch.randn(16, generator=generator, dtype=torch.float32)]
    out.update(eta=entry["eta"], seed=entry["seed"], snapshots=snapshots, file=f"{entry['name']}.npy",
               next_draw=next_draw)
    return out


def alphas_entry(name: str, config: dict, out_dir: pathlib.Path) -> dict:
    scheduler = DDIMScheduler.from_config(config)
    betas, alphas_cumprod = scheduler.betas, scheduler.alphas_cumprod
    assert betas.dtype == alphas_cumprod.dtype == torch.float32
    # How torch builds them, checked here so that the Swift port can rely on it: torch.linspace is
    # start + step*i (first half) / end - step*(n-1-i) (second half) with one fused multiply-add
    # (torch's AVX2 build), and cumprod accumulates in double on the CPU.
    if config.get("trained_betas") is None and config.get("beta_schedule", "linear") != "squaredcos_cap_v2":
        n = config.get("num_train_timesteps", 1000)
        power = 0.5 if config.get("beta_schedule") == "scaled_linear" else 1.0
        start = np.float32(config.get("beta_start", 0.0001) ** power)
        end = np.float32(config.get("beta_end", 0.02) ** power)
        step = np.float32((end - start) / np.float32(n - 1))
        i = np.arange(n)
        fused = np.where(i < n // 2, np.float64(start) + np.float64(step) * i,
                         np.float64(end) - np.float64(step) * (n - 1 - i)).astype(np.float32)
        expected = fused * fused if power == 0.5 else fused
        assert np.array_equal(expected, betas.numpy()), name
    alphas = (1.0 - betas).numpy()
    assert np.array_equal(np.cumprod(alphas.astype(np.float64)).astype(np.float32), alphas_cumprod.numpy()), name
    np.save(out_dir / f"alphas_{name}.npy", np.ascontiguousarray(torch.stack([betas, alphas_cumprod]).numpy(), dtype="<f4"))
    return {"name": name, "config": config, "file": f"alphas_{name}.npy"}


def add_noise_entry(kind: str, out_dir: pathlib.Path) -> dict:
    """add_noise at several schedule timesteps, from Auffusion's config, 25 steps."""
    scheduler = build(kind, AUFFUSION)
    scheduler.set_timesteps(25)
    picks = [0, 1, 12, 24]
    timesteps = [scheduler.timesteps[i:i + 1] for i in picks]
    generator = torch.Generator().manual_seed(7)
    original = torch.randn(SHAPE, generator=generator, dtype=torch.float32)
    noise = torch.randn(SHAPE, generator=generator, dtype=torch.float32)
    results = torch.stack([scheduler.add_noise(original, noise, t) for t in timesteps])
    name = kind.replace("+", "p")
    np.save(out_dir / f"add_noise_{name}.npy", np.ascontiguousarray(results.numpy(), dtype="<f4"))
    values = [float(t) if t.dtype.is_floating_point else int(t) for t in timesteps]
    return {"name": name, "kind": kind, "config": AUFFUSION, "steps": 25, "seed": 7,
            "timesteps": values, "file": f"add_noise_{name}.npy"}


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def check_capability() -> None:
    """The latents and step noise are only reproducible by TorchRandomSource(.avx2) under AVX2."""
    reported = [line for line in torch.__config__.show().splitlines() if "CPU capability usage" in line]
    if not reported or not reported[0].strip().endswith("AVX2"):
        raise RuntimeError("scheduler fixtures need torch's AVX2 kernels (randn = TorchRandomSource .avx2); "
                           f"run with ATEN_CPU_CAPABILITY=avx2. torch reports {reported}")


def generate(out_dir: pathlib.Path) -> None:
    """Writes every scheduler fixture into `out_dir` (Tests/Fixtures/schedulers/)."""
    import diffusers
    assert diffusers.__version__ == "0.18.2", diffusers.__version__
    check_capability()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for stale in out_dir.glob("*.npy"):
            stale.unlink()
        schedules = []
        for entry in schedule_plan():
            scheduler, timesteps = schedule_of(entry)
            schedules.append(describe_schedule(entry, scheduler, timesteps))
        trajectories = [run_trajectory(entry, out_dir) for entry in trajectory_plan()]
        for entries in (schedules, trajectories):
            assert len({entry["name"] for entry in entries}) == len(entries)
        document = {
            "note": "GENERATED by scripts/reference/schedulers_fixtures.py - DO NOT EDIT",
            "model": "eps(x, t) = float32(0.1 * sin(float32(t) / 100)) * x + 0.05 * x / (1 + x * x)",
            "shape": list(SHAPE),
            "alphas": [alphas_entry(name, config, out_dir) for name, config in ALPHA_CASES.items()],
            "timesteps": schedules,
            "trajectories": trajectories,
            "add_noise": [add_noise_entry(kind, out_dir) for kind in ("pndm", "ddim", "dpm++2m", "euler", "unipc")],
        }
        (out_dir / "cases.json").write_text(json.dumps(document, indent=1) + "\n")
    finally:
        torch.set_num_threads(threads)
