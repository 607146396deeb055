"""Prompt-to-prompt fixtures (spec section 8): Auffusion's prompt2prompt/ controllers on the tiny
standard-layout model folder of pipeline_fixtures.py.

Run through the dispatcher, after pipeline_fixtures (whose model folder it reads):

    python scripts/reference/generate.py p2p_fixtures      # writes Tests/Fixtures/p2p/

The reference restated here is Auffusion prompt2prompt/ptp_utils.py (AttentionControl,
AttentionStore, AttentionControlEdit, AttentionReplace, AttentionRefine, AttentionReweight,
get_time_words_attention_alpha, get_replacement_mapper_, get_mapper/global_align, get_equalizer)
and prompt2prompt/pipeline_prompt2prompt.py (Prompt2PromptPipeline.__call__,
register_attention_control, P2PCrossAttnProcessor, aggregate_attention), on diffusers 0.18.2's
UNet2DConditionModel. The behaviour that matters for parity:
  - every attention layer of the U-Net gets the processor; probabilities softmax(scale QK^T) are
    edited in place, so the store keeps the maps after the edit;
  - only the conditional half of the guidance batch is stored or edited; a layer counter rolls over
    after all layers, so cur_step counts U-Net evaluations (PNDM: steps + 1);
  - maps with more than 32^2 query pixels are not stored; self-attention is replaced only at
    <= 16^2 query pixels, for int(N s0) <= cur_step < int(N s1);
  - cross maps of prompts 1... become alpha * edit(base, rep) + (1 - alpha) * rep, alpha from the
    time/word schedule with N + 1 rows.
Latents are torch.randn([P, 4, 4, 16]) from a seeded CPU generator (the pipeline's default:
different noise for each prompt), PNDM, 10 steps, guidance 7.5.

Written to Tests/Fixtures/p2p/:
  cases.json            per case: name, prompts, edit settings, noise seed, steps, guidance
  <case>.mel.npy        [P, 16, 64] the log-mel of every prompt
  store.maps.npy        aggregate_attention(res=[4, 16], from_where=(down, mid, up), cross, select=0)
                        of the "store" case, [4, 16, 77]
"""
import json
import pathlib
import shutil

import numpy as np
import torch
from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

from clip_fixtures import get_word_inds as restated_word_inds
from pipeline_fixtures import CANVAS, LOG_HIGH, LOG_LOW, MELS, SCHEDULER_CONFIG

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent.parent / "Tests" / "Fixtures"
MAX_WORDS = 77
STEPS, GUIDANCE = 10, 7.5
SOURCE = "a dog barking in the rain"
CASES = [
    dict(name="store", prompts=[SOURCE], edit="store"),
    dict(name="swap", prompts=[SOURCE, "a cat barking in the rain"], edit="replace", cross=0.8, self=0.4),
    dict(name="refine", prompts=["a dog barking", "a dog barking loudly in the rain"], edit="refine",
         cross=0.8, self=0.4),
    dict(name="reweight", prompts=[SOURCE, SOURCE], edit="reweight", cross=0.8, self=0.4,
         weights={"rain": 3.0, "dog": -0.5}),
    dict(name="swap_reweight", prompts=[SOURCE, "a cat barking in the rain"], edit="reweight", previous="replace",
         cross={"default_": 0.8, "cat": [0.2, 0.6]}, self=[0.1, 0.5], weights={"rain": 0.0}),
]


def word_inds(text, word, tokenizer):
    return restated_word_inds(text, word, tokenizer)[0]


# ----------------------------------------------------------------------- controllers (ptp_utils.py)

class Store:
    """AttentionControl + AttentionStore: counting, conditional half, running sum."""

    def __init__(self, layers: int):
        self.layers, self.layer, self.step = layers, 0, 0
        self.step_store, self.store = self.empty(), {}

    @staticmethod
    def empty():
        return {f"{p}_{k}": [] for p in ("down", "mid", "up") for k in ("cross", "self")}

    def __call__(self, probs, is_cross, place):
        half = probs.shape[0] // 2
        probs[half:] = self.forward(probs[half:], is_cross, place)
        self.layer += 1
        if self.layer == self.layers:
            self.layer, self.step = 0, self.step + 1
            self.between_steps()

    def forward(self, probs, is_cross, place):
        if probs.shape[1] <= 32 ** 2:
            self.step_store[f"{place}_{'cross' if is_cross else 'self'}"].append(probs)
        return probs

    def between_steps(self):
        if not self.store:
            self.store = self.step_store
        else:
            for key, items in self.store.items():
                for i in range(len(items)):
                    items[i] += self.step_store[key][i]
        self.step_store = self.empty()

    def average(self):
        return {key: [item / self.step for item in items] for key, items in self.store.items()}

    def step_callback(self, latents):
        return latents


def alpha_schedule(prompts, steps, cross, tokenizer):
    """get_time_words_attention_alpha: [N + 1, P - 1, 1, 1, 77]."""
    cross = dict(cross) if isinstance(cross, dict) else {"default_": cross}
    cross.setdefault("default_", (0.0, 1.0))
    alpha = torch.zeros(steps + 1, len(prompts) - 1, MAX_WORDS)

    def update(bounds, prompt, inds=None):
        bounds = (0.0, bounds) if isinstance(bounds, float) else bounds
        start, end = int(bounds[0] * alpha.shape[0]), int(bounds[1] * alpha.shape[0])
        inds = torch.arange(MAX_WORDS) if inds is None else torch.tensor(inds)
        alpha[:, prompt, inds] = 0
        alpha[start:end, prompt, inds] = 1

    for i in range(len(prompts) - 1):
        update(cross["default_"], i)
    for word, bounds in cross.items():
        if word == "default_":
            continue
        for i, prompt in enumerate(prompts[1:]):
            inds = word_inds(prompt, word, tokenizer)
            if inds:
                update(bounds, i, inds)
    return alpha.reshape(steps + 1, len(prompts) - 1, 1, 1, MAX_WORDS)


class Edit(Store):
    """AttentionControlEdit with the cross edit of a subclass."""

    def __init__(self, layers, prompts, steps, cross, self_steps, tokenizer):
        super().__init__(layers)
        self.count = len(prompts)
        self.alpha = alpha_schedule(prompts, steps, cross, tokenizer)
        self_steps = (0.0, self_steps) if isinstance(self_steps, float) else self_steps
        self.self_range = int(steps * self_steps[0]), int(steps * self_steps[1])

    def forward(self, probs, is_cross, place):
        super().forward(probs, is_cross, place)
        if is_cross or self.self_range[0] <= self.step < self.self_range[1]:
            heads = probs.shape[0] // self.count
            view = probs.reshape(self.count, heads, *probs.shape[1:])
            base, rep = view[0], view[1:]
            if is_cross:
                a = self.alpha[self.step]
                view[1:] = self.cross_edit(base, rep) * a + (1 - a) * rep
            elif rep.shape[2] <= 16 ** 2:
                view[1:] = base.unsqueeze(0).expand(rep.shape[0], *base.shape)
            probs = view.reshape(self.count * heads, *probs.shape[1:])
        return probs


class Replace(Edit):
    def __init__(self, layers, prompts, steps, cross, self_steps, tokenizer):
        super().__init__(layers, prompts, steps, cross, self_steps, tokenizer)
        self.mapper = torch.stack([replacement_mapper(prompts[0], p, tokenizer) for p in prompts[1:]])

    def cross_edit(self, base, rep):
        return torch.einsum("hpw,bwn->bhpn", base, self.mapper)


class Refine(Edit):
    def __init__(self, layers, prompts, steps, cross, self_steps, tokenizer):
        super().__init__(layers, prompts, steps, cross, self_steps, tokenizer)
        pairs = [refinement_mapper(prompts[0], p, tokenizer) for p in prompts[1:]]
        self.mapper = torch.stack([m for m, _ in pairs])
        alphas = torch.stack([a for _, a in pairs])
        self.alphas = alphas.reshape(alphas.shape[0], 1, 1, alphas.shape[1])

    def cross_edit(self, base, rep):
        return base[:, :, self.mapper].permute(2, 0, 1, 3) * self.alphas + rep * (1 - self.alphas)


class Reweight(Edit):
    def __init__(self, layers, prompts, steps, cross, self_steps, tokenizer, equalizer, previous=None):
        super().__init__(layers, prompts, steps, cross, self_steps, tokenizer)
        self.equalizer, self.previous = equalizer, previous

    def cross_edit(self, base, rep):
        if self.previous is not None:
            base = self.previous.cross_edit(base, rep)
        return base[None, :, :, :] * self.equalizer[:, None, None, :]


def replacement_mapper(x, y, tokenizer, diagonal_tail=True):
    """get_replacement_mapper_: [77, 77]. With diagonal_tail off, source token i keeps mapping to
    target token j after the last swapped word, where the reference writes mapper[j, j] (the port's
    alignment, which differs when the swapped words' token counts do)."""
    wx, wy = x.split(" "), y.split(" ")
    assert len(wx) == len(wy)
    changed = [i for i in range(len(wy)) if wx[i] != wy[i]]
    src = [word_inds(x, i, tokenizer) for i in changed]
    tgt = [word_inds(y, i, tokenizer) for i in changed]
    mapper = np.zeros((MAX_WORDS, MAX_WORDS))
    i = j = k = 0
    while i < MAX_WORDS and j < MAX_WORDS:
        if k < len(src) and src[k][0] == i:
            if len(src[k]) == len(tgt[k]):
                mapper[src[k], tgt[k]] = 1
            else:
                for t in tgt[k]:
                    mapper[src[k], t] = 1 / len(tgt[k])
            i, j, k = i + len(src[k]), j + len(tgt[k]), k + 1
        else:
            mapper[j if k == len(src) and diagonal_tail else i, j] = 1
            i, j = i + 1, j + 1
    return torch.from_numpy(mapper).float()


def refinement_mapper(x, y, tokenizer):
    """get_mapper: global alignment (gap 0, match 1, mismatch -1) of the two id sequences."""
    xs, ys = tokenizer.encode(x), tokenizer.encode(y)
    score = np.zeros((len(xs) + 1, len(ys) + 1), dtype=np.int32)
    trace = np.zeros_like(score)
    trace[0, 1:], trace[1:, 0], trace[0, 0] = 1, 2, 4
    for i in range(1, len(xs) + 1):
        for j in range(1, len(ys) + 1):
            left, up = score[i, j - 1], score[i - 1, j]
            diag = score[i - 1, j - 1] + (1 if xs[i - 1] == ys[j - 1] else -1)
            score[i, j] = max(left, up, diag)
            trace[i, j] = 1 if score[i, j] == left else 2 if score[i, j] == up else 3
    i, j, pairs = len(xs), len(ys), []
    while i > 0 or j > 0:
        if trace[i, j] == 3:
            i, j = i - 1, j - 1
            pairs.append((j, i))
        elif trace[i, j] == 1:
            j -= 1
            pairs.append((j, -1))
        elif trace[i, j] == 2:
            i -= 1
        else:
            break
    base = torch.tensor(pairs[::-1], dtype=torch.int64)
    alphas = torch.ones(MAX_WORDS)
    alphas[:base.shape[0]] = base[:, 1].ne(-1).float()
    mapper = torch.zeros(MAX_WORDS, dtype=torch.int64)
    mapper[:base.shape[0]] = base[:, 1]
    mapper[base.shape[0]:] = len(ys) + torch.arange(MAX_WORDS - len(ys))
    return mapper, alphas


def equalizer(text, weights, tokenizer):
    """get_equalizer with one value per word (the CLI's --weight WORD=FACTOR)."""
    eq = torch.ones(1, MAX_WORDS)
    for word, value in weights.items():
        eq[:, word_inds(text, word, tokenizer)] = value
    return eq


# ------------------------------------------------------------- pipeline (pipeline_prompt2prompt.py)

class Processor:
    """P2PCrossAttnProcessor on diffusers 0.18.2's Attention."""

    def __init__(self, controller, place):
        self.controller, self.place = controller, place

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None):
        is_cross = encoder_hidden_states is not None
        context = encoder_hidden_states if is_cross else hidden_states
        query = attn.head_to_batch_dim(attn.to_q(hidden_states))
        key = attn.head_to_batch_dim(attn.to_k(context))
        value = attn.head_to_batch_dim(attn.to_v(context))
        probs = attn.get_attention_scores(query, key, None)
        self.controller(probs, is_cross, self.place)
        out = attn.batch_to_head_dim(torch.bmm(probs, value))
        return attn.to_out[1](attn.to_out[0](out))


def register(unet, controller) -> None:
    processors = {}
    for name in unet.attn_processors:
        place = "mid" if name.startswith("mid_block") else "up" if name.startswith("up_blocks") else "down"
        processors[name] = Processor(controller, place)
    unet.set_attn_processor(processors)


def load_models(folder: pathlib.Path):
    tokenizer = CLIPTokenizer.from_pretrained(FIXTURES / "clip" / "tokenizer")
    encoder = CLIPTextModel.from_pretrained(folder / "text_encoder").float().eval()
    unet = UNet2DConditionModel.from_pretrained(folder / "unet").eval()
    vae = AutoencoderKL.from_pretrained(folder / "vae").eval()
    return tokenizer, encoder, unet, vae


def encode(tokenizer, encoder, prompts):
    ids = tokenizer(prompts, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    return encoder(ids)[0]


def make_controller(case, layers, tokenizer, steps=STEPS):
    prompts = case["prompts"]
    if case["edit"] == "store":
        return Store(layers)
    common = (layers, prompts, steps, case["cross"], case["self"], tokenizer)
    kinds = {"replace": Replace, "refine": Refine}
    if case["edit"] in kinds:
        return kinds[case["edit"]](*common)
    previous = kinds[case["previous"]](*common) if "previous" in case else None
    return Reweight(*common, equalizer(prompts[1], case["weights"], tokenizer), previous)


def run(models, case, seed):
    tokenizer, encoder, unet, vae = models
    prompts = case["prompts"]
    with torch.no_grad():
        cond = encode(tokenizer, encoder, prompts)
        uncond = encode(tokenizer, encoder, [""] * len(prompts))
        context = torch.cat([uncond, cond])
        scheduler = PNDMScheduler.from_config(SCHEDULER_CONFIG)
        scheduler.set_timesteps(STEPS)
        latents = torch.randn([len(prompts), 4, MELS // 4, CANVAS // 4], generator=torch.Generator().manual_seed(seed))
        latents = latents * scheduler.init_noise_sigma
        controller = make_controller(case, len(unet.attn_processors), tokenizer)
        register(unet, controller)
        for t in scheduler.timesteps:
            x = scheduler.scale_model_input(torch.cat([latents] * 2), t)
            eps_u, eps_c = unet(x, t, encoder_hidden_states=context).sample.chunk(2)
            latents = scheduler.step(eps_u + GUIDANCE * (eps_c - eps_u), t, latents).prev_sample
            latents = controller.step_callback(latents)
        mels = []
        for i in range(len(prompts)):
            image = (vae.decode(latents[i:i + 1] / vae.config.scaling_factor).sample / 2 + 0.5).clamp(0, 1)
            mels.append(torch.flip(image[0, 0], dims=[0]) * (LOG_HIGH - LOG_LOW) + LOG_LOW)
    return torch.stack(mels), controller


def aggregate(controller, count, res, places, select):
    """aggregate_attention for cross maps: [r0, r1, 77]."""
    maps = []
    for place in places:
        for item in controller.average()[f"{place}_cross"]:
            if item.shape[1] == res[0] * res[1]:
                maps.append(item.reshape(count, -1, res[0], res[1], item.shape[-1])[select])
    maps = torch.cat(maps, dim=0)
    return maps.sum(0) / maps.shape[0]


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    for stale in out_dir.iterdir():
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    models = load_models(FIXTURES / "pipeline" / "standard")
    cases = []
    for index, case in enumerate(CASES):
        seed = 60 + index
        mels, controller = run(models, case, seed)
        assert torch.isfinite(mels).all()
        assert controller.step == STEPS + 1, controller.step  # PNDM: one extra U-Net evaluation
        np.save(out_dir / f"{case['name']}.mel.npy", mels.numpy().astype("<f4"))
        if case["edit"] == "store":
            maps = aggregate(controller, 1, [4, 16], ["down", "mid", "up"], 0)
            np.save(out_dir / "store.maps.npy", maps.numpy().astype("<f4"))
        cases.append(dict(case, noise_seed=seed, steps=STEPS, guidance=GUIDANCE))
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
