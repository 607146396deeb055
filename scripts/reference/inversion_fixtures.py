"""Inversion fixtures: edit-friendly DDPM inversion as ZETA runs it, and DDIM inversion with Direct
Inversion under prompt-to-prompt, on the tiny standard-layout model of pipeline_fixtures.py and the
clip of editing_fixtures.py.

Run through the dispatcher, after pipeline_fixtures and editing_fixtures (whose model folder and
clip it reads):

    python scripts/reference/generate.py inversion_fixtures      # writes Tests/Fixtures/inversion/

The clip's latents are editing/clip.latents.npy. The references restated here, on diffusers 0.18.2's DDIMScheduler built from Auffusion's scheduler
config (clip_sample off, set_alpha_to_one off, steps_offset 1):
  ddpm   ZETA (Manor & Michaeli 2024, HilaManor/AudioEditingCode) code/ddm_inversion/inversion_utils.py
         inversion_forward_process and inversion_reverse_process, with models.py sample_xts_from_x0,
         get_zs_from_xts and reverse_step_with_custom_noise, as main_run.py calls them (eta 1,
         numerical_fix on, one prompt, no cutoff points):
           x_0 = z0; for t in reversed(timesteps) (smallest first) x_k = sqrt(ab_t) z0 + sqrt(1 - ab_t) n_k,
             n_k = randn drawn in that order (here from a seeded generator);
           for t in timesteps (largest first), k = its index from the end (0 = smallest t):
             eps = guided prediction at x_{k+1} (the source prompt with cfg_src; the unconditional
             prediction alone when the source prompt is empty); mu = the DDIM step's mean;
             z_k = (x_k - mu) / sigma_t; x_k = mu + sigma_t z_k. ZETA then sets z_0 = 0 (the
             DDPM convention that the last step adds no noise), so its regeneration ends at the
             mean from x_1, off the clip by sigma_1 z_0 (sigma_1 > 0: set_alpha_to_one is off);
             the paper's algorithm keeps every z_t, and so do the port and this restatement,
             which makes regenerating with the source prompt return the clip's latents;
           edit: from x_{T_start} through the last T_start timesteps with the target prompt and
             cfg_tar, each DDIM step (eta 1) adding sigma_t z_k as its noise.
  ddim   PnP Inversion (Ju et al. 2024, cure-lab/PnPInversion) models/p2p/inversion.py
         DirectInversion (ddim_loop, next_step, prev_step, offset_calculate) and
         models/p2p/p2p_guidance_forward.py direct_inversion_p2p_guidance_forward:
           DDIM inversion with the source prompt's conditional prediction (guidance 1), where the
             step into timestep t evaluates the U-Net at t on the latents of the step before;
           edit: [source, target] (unconditional "") from the last inverted latents under the
             prompt-to-prompt controller of p2p_fixtures.py, DDIM (eta 0); after each step the
             source row is put back on the inversion trajectory. PnP computes offsets for this
             (offset_calculate: the inverted latents minus the guided DDIM step from the inverted
             latents one step up) and adds them to the source row, which lands on the trajectory
             in exact arithmetic; in float32 the sum carries each step's rounding into the next,
             which the tiny random U-Net amplifies (the source ends 2.8e-3 off the clip's latents,
             mel nmse 1.6e-4), so the source row is set to the trajectory instead, as the
             method intends, and the offset pass is not run.
  swap   The word-swap mapper of p2p_fixtures.py (get_replacement_mapper_) with its tail aligned:
         after the last swapped word source token i maps to target token j (the reference writes
         mapper[j, j], which shifts the rest of the prompt when the swapped words' token counts
         differ); a different-count swap runs as a "ddim" case.

Written to Tests/Fixtures/inversion/:
  cases.json               per case: name, method, prompts, steps, guidance, start step, seed, edit
  <case>.noise.npy         ddpm: the noise maps z_k, [N, 4, 4, 16] (k = 0 first, z_0 kept)
  <case>.trajectory.npy    ddpm: x_0 ... x_N after the numerical fix; ddim: the inverted latents
                           x_0 ... x_N, [N + 1, 4, 4, 16]
  <case>.mel.npy           ddpm: the edited log-mel [16, 64]; ddim: the log-mel of both prompts [2, 16, 64]
  <case>.mapper.npy        swap cases: the fixed mapper [77, 77]
"""
import json
import pathlib
import shutil

import numpy as np
import torch
from diffusers import DDIMScheduler
from diffusers.models.attention_processor import AttnProcessor

from editing_fixtures import decode, load_models
from p2p_fixtures import Replace, register, replacement_mapper
from pipeline_fixtures import SCHEDULER_CONFIG, embeddings

SOURCE = "a cat meowing loudly in a small room"
CASES = [
    dict(name="ddpm_prompt", method="ddpm", source=SOURCE, target="a dog barking loudly in a small room",
         steps=10, start=6, source_guidance=3.0, target_guidance=12.0, seed=81),
    dict(name="ddpm_empty", method="ddpm", source="", target="a dog barking loudly in a small room",
         steps=10, start=10, source_guidance=3.0, target_guidance=12.0, seed=82),
    dict(name="ddim_swap", method="ddim", source="a dog barking in the rain", target="a cat barking in the rain",
         steps=10, source_guidance=1.0, target_guidance=7.5, cross=0.8, self=0.4),
    dict(name="ddim_swap_longer", method="ddim", source="a dog barking in the rain",
         target="a cat meowing in the rain", steps=10, source_guidance=1.0, target_guidance=7.5, cross=0.8, self=0.4),
]


def ddim_scheduler(steps: int) -> DDIMScheduler:
    scheduler = DDIMScheduler.from_config(SCHEDULER_CONFIG)
    scheduler.set_timesteps(steps)
    return scheduler


def alpha_before(scheduler, timestep: int):
    """get_alpha_prod_t_prev: alphas_cumprod of the timestep one step down, final_alpha_cumprod below 0."""
    previous = timestep - scheduler.config.num_train_timesteps // scheduler.num_inference_steps
    return scheduler.alphas_cumprod[previous] if previous >= 0 else scheduler.final_alpha_cumprod


def variance(scheduler, timestep: int):
    """get_variance: (1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)."""
    alpha, previous = scheduler.alphas_cumprod[timestep], alpha_before(scheduler, timestep)
    return (1 - previous) / (1 - alpha) * (1 - alpha / previous)


def ddpm_mean(scheduler, eps, timestep: int, sample, eta=1.0):
    """The deterministic part of get_zs_from_xts / reverse_step_with_custom_noise (epsilon prediction)."""
    alpha, previous = scheduler.alphas_cumprod[timestep], alpha_before(scheduler, timestep)
    original = (sample - (1 - alpha) ** 0.5 * eps) / alpha ** 0.5
    return previous ** 0.5 * original + (1 - previous - eta * variance(scheduler, timestep)) ** 0.5 * eps


def guided(unet, latents, timestep, cond, uncond, scale):
    """uncond + scale (cond - uncond), two separate U-Net calls as ZETA makes them; uncond alone without cond."""
    out = unet(latents, timestep, encoder_hidden_states=uncond).sample
    if cond is None:
        return out
    return out + scale * (unet(latents, timestep, encoder_hidden_states=cond).sample - out)


def ddpm_case(case, models, z0, adapter=None):
    """`adapter`: the condition adapter of a full-size folder (bench_inversion.py); the fixtures have none."""
    tokenizer, encoder, unet, vae = models
    steps, start = case["steps"], case["start"]
    scheduler = ddim_scheduler(steps)
    timesteps = scheduler.timesteps
    alpha_bar = scheduler.alphas_cumprod
    uncond = embeddings(tokenizer, encoder, adapter, "")
    source = embeddings(tokenizer, encoder, adapter, case["source"]) if case["source"] else None
    generator = torch.Generator().manual_seed(case["seed"])
    index_of = {int(t): k for k, t in enumerate(timesteps)}
    # sample_xts_from_x0
    xts = torch.zeros(steps + 1, *z0.shape[1:])
    xts[0] = z0[0]
    for t in reversed(timesteps):
        k = steps - index_of[int(t)]
        xts[k] = z0[0] * (alpha_bar[t] ** 0.5) + torch.randn(z0.shape, generator=generator)[0] * (1 - alpha_bar[t]) ** 0.5
    # inversion_forward_process
    zs = torch.zeros(steps, *z0.shape[1:])
    with torch.no_grad():
        for t in timesteps:
            k = steps - index_of[int(t)] - 1
            xt = xts[k + 1][None]
            eps = guided(unet, xt, t, source, uncond, case["source_guidance"])
            mean = ddpm_mean(scheduler, eps, int(t), xt)
            sigma = variance(scheduler, int(t)) ** 0.5
            z = (xts[k][None] - mean) / sigma
            zs[k] = z[0]
            xts[k] = (mean + sigma * z)[0]
    # inversion_reverse_process
    target = embeddings(tokenizer, encoder, adapter, case["target"])
    xt = xts[start][None]
    with torch.no_grad():
        for it, t in enumerate(timesteps[-start:]):
            k = start - 1 - it
            eps = guided(unet, xt, t, target, uncond, case["target_guidance"])
            xt = ddpm_mean(scheduler, eps, int(t), xt) + variance(scheduler, int(t)) ** 0.5 * zs[k][None]
    return dict(noise=zs, trajectory=xts, mel=decode(vae, xt))


class AlignedReplace(Replace):
    def __init__(self, layers, prompts, steps, cross, self_steps, tokenizer):
        super(Replace, self).__init__(layers, prompts, steps, cross, self_steps, tokenizer)
        self.mapper = torch.stack([replacement_mapper(prompts[0], p, tokenizer, diagonal_tail=False) for p in prompts[1:]])


def next_step(scheduler, eps, timestep: int, sample):
    """DirectInversion.next_step: from the latents one step below `timestep` up to `timestep`."""
    current = min(timestep - scheduler.config.num_train_timesteps // scheduler.num_inference_steps, 999)
    alpha = scheduler.alphas_cumprod[current] if current >= 0 else scheduler.final_alpha_cumprod
    alpha_next = scheduler.alphas_cumprod[timestep]
    original = (sample - (1 - alpha) ** 0.5 * eps) / alpha ** 0.5
    return alpha_next ** 0.5 * original + (1 - alpha_next) ** 0.5 * eps


def ddim_case(case, models, z0, adapter=None):
    """`adapter`: as ddpm_case's."""
    tokenizer, encoder, unet, vae = models
    steps, scale = case["steps"], case["target_guidance"]
    prompts = [case["source"], case["target"]]
    scheduler = ddim_scheduler(steps)
    unet.set_attn_processor(AttnProcessor())
    source = embeddings(tokenizer, encoder, adapter, case["source"])
    with torch.no_grad():
        trajectory, latent = [z0], z0
        for i in range(steps):                                                  # ddim_loop
            t = scheduler.timesteps[steps - i - 1]
            latent = next_step(scheduler, unet(latent, t, encoder_hidden_states=source).sample, int(t), latent)
            trajectory.append(latent)
        context = torch.cat([embeddings(tokenizer, encoder, adapter, "")] * 2
                            + [source, embeddings(tokenizer, encoder, adapter, case["target"])])
        controller = AlignedReplace(len(unet.attn_processors), prompts, steps, case["cross"], case["self"], tokenizer)
        register(unet, controller)
        latents = torch.cat([trajectory[-1]] * 2)                               # direct_inversion_p2p_guidance_forward
        for i, t in enumerate(scheduler.timesteps):
            eps_u, eps_c = unet(torch.cat([latents] * 2), t, encoder_hidden_states=context).sample.chunk(2)
            latents = scheduler.step(eps_u + scale * (eps_c - eps_u), t, latents).prev_sample
            latents = torch.cat([trajectory[steps - i - 1], latents[1:]])       # the source back on the trajectory
            latents = controller.step_callback(latents)
        assert controller.step == steps, controller.step
    unet.set_attn_processor(AttnProcessor())
    mels = torch.stack([decode(vae, latents[i:i + 1]) for i in range(2)])
    return dict(trajectory=torch.cat(trajectory), mel=mels, mapper=controller.mapper[0])


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    for stale in out_dir.iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    fixtures = out_dir.parent
    models = load_models(fixtures / "pipeline" / "standard", fixtures / "clip")
    z0 = torch.from_numpy(np.load(fixtures / "editing" / "clip.latents.npy"))
    for case in CASES:
        arrays = (ddpm_case if case["method"] == "ddpm" else ddim_case)(case, models, z0)
        for kind, array in arrays.items():
            assert torch.isfinite(array).all(), (case["name"], kind)
            np.save(out_dir / f"{case['name']}.{kind}.npy", array.numpy().astype("<f4"))
    (out_dir / "cases.json").write_text(json.dumps(CASES, indent=1) + "\n")
