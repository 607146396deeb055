"""Composition fixtures: the edits that combine the others, restated in Python on the tiny
standard-layout model of pipeline_fixtures.py, where the Swift port goes beyond one reference
pipeline (docs/editing.md, docs/parity.md):

Run through the dispatcher, after pipeline_fixtures, editing_fixtures and p2p_fixtures (whose
model folder, clip and controllers it uses):

    python scripts/reference/generate.py composition_fixtures      # writes Tests/Fixtures/composition/

  clip_swap      prompt-to-prompt on a clip: diffusers' img2img start (editing_fixtures.py
                 run_case "transfer": the tail of the schedule that `strength` keeps, the clip's
                 latents noised to its first timestep with one randn tensor) shared by both prompts,
                 then Auffusion's prompt2prompt loop (p2p_fixtures.py) over that tail with a word-swap
                 controller whose step count is the tail's length - 1 (its N + 1 rows are the tail's
                 evaluations).
  blend_swap     a word swap from one shared start noise (randn [1, 4, 4, 16] for both prompts) with
                 Auffusion's LocalBlend (ptp_utils.py) as step_callback, the maps read in their true
                 shape (h, w) instead of the reference's hard-coded 16 x 16 (docs/editing.md): the
                 down and up cross-attention maps at the blend's resolution, summed over the chosen
                 words' tokens, averaged over maps and heads, max-pooled 3 x 3, resized nearest to the
                 latents, divided by each prompt's maximum, `> threshold`, united with the source's;
                 x = x0 + m (x - x0).
  plan_two_pass  an edit plan of two passes on the clip: restyle at strength 0.6 under one prompt,
                 then regenerate 0.2-0.4 s of the result under another at strength 1 (inpainting's
                 start and per-step constraint, with the first pass's latents as the base). One
                 generator supplies both passes' randn tensors, in order.
  inpaint_spliced  editing_fixtures.py's inpaint_time, vocoded by the folder's HiFi-GAN, trimmed to
                 the clip, scaled by the clip's peak / 0.95 and spliced into the clip inside the
                 mask's samples with a 20 ms equal-power crossfade at each inner edge.

Written to Tests/Fixtures/composition/:
  cases.json             per case: name, kind, prompts, settings, noise seed
  <case>.mel.npy         [P, 16, 64] the log-mel of every prompt (plan: of the last pass, [1, 16, 64])
  inpaint_spliced.wave.npy  the spliced waveform, the clip's 8000 samples
"""
import json
import pathlib
import shutil

import numpy as np
import soundfile
import torch
import torch.nn.functional as F
from diffusers import PNDMScheduler

import editing_fixtures
import p2p_fixtures
import pipeline_fixtures
from pipeline_fixtures import LOG_HIGH, LOG_LOW, SCHEDULER_CONFIG
from vocoder_fixtures import Generator

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent / "Tests" / "Fixtures"
STEPS, GUIDANCE = 10, 7.5
SWAP = ["a dog barking", "a cat barking"]
CROSSFADE_SECONDS = 0.020
CASES = [
    dict(name="clip_swap", kind="clip_swap", prompts=["a cat meowing loudly in a small room",
                                                      "a dog meowing loudly in a small room"],
         strength=0.6, cross=0.8, self=0.4, noise_seed=81),
    dict(name="blend_swap", kind="blend_swap", prompts=SWAP, cross=0.8, self=0.4, words=["dog", "cat"],
         threshold=0.8, resolution=[4, 16], noise_seed=82),
    dict(name="plan_two_pass", kind="plan", prompts=[editing_fixtures.PROMPT, "a siren wailing"],
         strength=0.6, mask=[[0.2, 0.4]], noise_seed=83),
    dict(name="inpaint_spliced", kind="inpaint_spliced", prompts=[editing_fixtures.PROMPT], strength=1.0,
         mask=[[0.16, 0.40]], noise_seed=73),
]


def tail(steps: int, strength: float):
    """A PNDM scheduler set for `steps` and the timesteps `strength` keeps (get_timesteps)."""
    scheduler = PNDMScheduler.from_config(SCHEDULER_CONFIG)
    scheduler.set_timesteps(steps)
    init = min(int(steps * strength), steps)
    return scheduler, scheduler.timesteps[max(steps - init, 0) * scheduler.order:]


def decode(vae, latents) -> torch.Tensor:
    """The log-mel [16, 64] of one latent [1, 4, 4, 16] (denormalize_spectrogram)."""
    image = (vae.decode(latents / vae.config.scaling_factor).sample / 2 + 0.5).clamp(0, 1)
    return torch.flip(image[0, 0], dims=[0]) * (LOG_HIGH - LOG_LOW) + LOG_LOW


class LocalBlend:
    """ptp_utils.py LocalBlend with each map in its true shape (module docstring)."""

    def __init__(self, prompts, words, tokenizer, threshold, resolution):
        self.alpha = torch.zeros(len(prompts), 1, 1, 1, 1, p2p_fixtures.MAX_WORDS)
        for i, prompt in enumerate(prompts):
            for word in words:
                inds = p2p_fixtures.word_inds(prompt, word, tokenizer)
                self.alpha[i, :, :, :, :, inds] = 1
        self.threshold, self.resolution = threshold, resolution

    def __call__(self, x, store):
        h, w = self.resolution
        maps = [item for place in ("down", "up") for item in store[f"{place}_cross"] if item.shape[1] == h * w]
        maps = torch.cat([item.reshape(x.shape[0], -1, 1, h, w, p2p_fixtures.MAX_WORDS) for item in maps], dim=1)
        maps = (maps * self.alpha).sum(-1).mean(1)                                   # [P, 1, h, w]
        mask = F.max_pool2d(maps, (3, 3), (1, 1), padding=(1, 1))
        mask = F.interpolate(mask, size=x.shape[2:])
        mask = mask / mask.max(2, keepdim=True)[0].max(3, keepdim=True)[0]
        mask = mask.gt(self.threshold)
        mask = (mask[:1] + mask[1:]).float()
        return x[:1] + mask * (x - x[:1])


def prompt_to_prompt(models, prompts, latents, scheduler, timesteps, controller, blend=None) -> torch.Tensor:
    """pipeline_prompt2prompt.py's loop from `latents` [P, 4, 4, 16] over `timesteps`."""
    tokenizer, encoder, unet, _ = models
    plain = unet.attn_processors
    with torch.no_grad():
        context = torch.cat([p2p_fixtures.encode(tokenizer, encoder, [""] * len(prompts)),
                             p2p_fixtures.encode(tokenizer, encoder, prompts)])
        p2p_fixtures.register(unet, controller)
        for t in timesteps:
            x = scheduler.scale_model_input(torch.cat([latents] * 2), t)
            eps_u, eps_c = unet(x, t, encoder_hidden_states=context).sample.chunk(2)
            latents = scheduler.step(eps_u + GUIDANCE * (eps_c - eps_u), t, latents).prev_sample
            if blend is not None:
                latents = blend(latents, controller.store)
    unet.set_attn_processor(plain)
    assert controller.step == len(timesteps), (controller.step, len(timesteps))
    return latents


def swap_controller(case, models, steps):
    layers = len(models[2].attn_processors)
    return p2p_fixtures.make_controller(dict(case, edit="replace"), layers, models[0], steps=steps)


def clip_swap(case, models, z0) -> torch.Tensor:
    scheduler, timesteps = tail(STEPS, case["strength"])
    noise = torch.randn(z0.shape, generator=torch.Generator().manual_seed(case["noise_seed"]))
    start = scheduler.add_noise(z0, noise, timesteps[:1]).expand(len(case["prompts"]), -1, -1, -1)
    controller = swap_controller(case, models, max(len(timesteps) - 1, 1))
    return prompt_to_prompt(models, case["prompts"], start, scheduler, timesteps, controller)


def blend_swap(case, models) -> torch.Tensor:
    scheduler, timesteps = tail(STEPS, 1.0)
    noise = torch.randn([1, 4, 4, 16], generator=torch.Generator().manual_seed(case["noise_seed"]))
    start = (noise * scheduler.init_noise_sigma).expand(len(case["prompts"]), -1, -1, -1)
    controller = swap_controller(case, models, STEPS)
    blend = LocalBlend(case["prompts"], case["words"], models[0], case["threshold"], case["resolution"])
    return prompt_to_prompt(models, case["prompts"], start, scheduler, timesteps, controller, blend)


def guided(models, prompt, latents, scheduler, timesteps, after_step=None) -> torch.Tensor:
    tokenizer, encoder, unet, _ = models
    context = torch.cat([pipeline_fixtures.embeddings(tokenizer, encoder, None, ""),
                         pipeline_fixtures.embeddings(tokenizer, encoder, None, prompt)])
    return editing_fixtures.denoise(unet, scheduler, latents, timesteps, context, after_step)


def masked(base, noise, scheduler, timesteps, ranges, latents_shape):
    """Inpainting's constraint (editing_fixtures.py run_case) with `base` as the clean latents."""
    mask = torch.zeros(1, 1, latents_shape[2] * 4, latents_shape[3] * 4)
    for start, end in ranges:
        mask[:, :, :, round(start * 100):round(end * 100)] = 1
    m = F.interpolate(mask, size=tuple(latents_shape[2:]))

    def after_step(i, x):
        proper = base if i == len(timesteps) - 1 else scheduler.add_noise(base, noise, torch.tensor([timesteps[i + 1]]))
        return (1 - m) * proper + m * x
    return after_step


def plan(case, models, z0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(case["noise_seed"])
    scheduler, timesteps = tail(STEPS, case["strength"])
    noise = torch.randn(z0.shape, generator=generator)
    restyled = guided(models, case["prompts"][0], scheduler.add_noise(z0, noise, timesteps[:1]), scheduler, timesteps)
    scheduler, timesteps = tail(STEPS, 1.0)
    noise = torch.randn(z0.shape, generator=generator)
    constraint = masked(restyled, noise, scheduler, timesteps, case["mask"], z0.shape)
    return guided(models, case["prompts"][1], noise * scheduler.init_noise_sigma, scheduler, timesteps, constraint)


def splice(generated: np.ndarray, original: np.ndarray, ranges: list) -> np.ndarray:
    """Equal-power crossfades of CROSSFADE_SECONDS inside each range's inner edges; float32 as the port."""
    output = original.copy()
    length = round(CROSSFADE_SECONDS * 16000)
    for lower, upper in ranges:
        fade = min(length, (upper - lower) // 2)
        output[lower:upper] = generated[lower:upper]
        w = (np.float32(np.pi / 2) * (np.arange(fade, dtype=np.float32) + np.float32(0.5)) / np.float32(fade)).astype(np.float32)
        if lower > 0:
            index = lower + np.arange(fade)
            output[index] = np.cos(w) * original[index] + np.sin(w) * generated[index]
        if upper < len(original):
            index = upper - 1 - np.arange(fade)
            output[index] = np.cos(w) * original[index] + np.sin(w) * generated[index]
    return output


def inpaint_spliced(case, models, z0, folder) -> tuple:
    _, _, unet, vae = models
    context = torch.cat([pipeline_fixtures.embeddings(models[0], models[1], None, ""),
                         pipeline_fixtures.embeddings(models[0], models[1], None, case["prompts"][0])])
    log_mel = editing_fixtures.run_case("inpaint", case["strength"], case["noise_seed"], case["mask"], z0, unet, vae, context)
    vocoder = Generator(pipeline_fixtures.VOCODER_CONFIG).eval()
    vocoder.load_state_dict(torch.load(folder / "vocoder" / "vocoder.pt")["generator"])
    with torch.no_grad():
        wave = vocoder(log_mel[None])[0, 0].numpy()
    clip = soundfile.read(FIXTURES / "editing" / "clip.wav", dtype="float32")[0]
    gain = np.float32(np.abs(clip).max() / np.float32(0.95))
    ranges = [(round(start * 16000), round(end * 16000)) for start, end in case["mask"]]
    return log_mel, splice((wave[:len(clip)] * gain).astype(np.float32), clip, ranges)


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    for stale in out_dir.iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    folder = FIXTURES / "pipeline" / "standard"
    models = p2p_fixtures.load_models(folder)
    z0 = editing_fixtures.clip_latents(editing_fixtures.clip_samples(), models[3])
    cases = []
    for case in CASES:
        kind = case["kind"]
        with torch.no_grad():
            if kind == "clip_swap":
                mels = torch.stack([decode(models[3], x[None]) for x in clip_swap(case, models, z0)])
            elif kind == "blend_swap":
                mels = torch.stack([decode(models[3], x[None]) for x in blend_swap(case, models)])
            elif kind == "plan":
                mels = decode(models[3], plan(case, models, z0))[None]
            else:
                log_mel, wave = inpaint_spliced(case, models, z0, folder)
                mels = log_mel[None]
                np.save(out_dir / f"{case['name']}.wave.npy", wave.astype("<f4"))
        assert torch.isfinite(mels).all(), case["name"]
        np.save(out_dir / f"{case['name']}.mel.npy", mels.numpy().astype("<f4"))
        cases.append(dict(case, steps=STEPS, guidance=GUIDANCE))
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
