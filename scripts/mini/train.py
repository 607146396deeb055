"""Trains the embedded model from nothing and writes it in the published folder layout.

    python scripts/mini/train.py --work .mini-work --out <folder>     # `make mini-model`

Stages, each resumable (state in --work, saved every 10 minutes and at the end of a stage):
    corpus    synthesise the captioned clips (corpus.py) and their spectrogram images
    vae       train the AutoencoderKL on the images (L1 + a small KL term)
    latents   encode every image once: posterior mean and standard deviation
    decoder   refine the VAE's decoder alone on those latents (the encoder frozen)
    unet      train the CLIP text encoder and the U-Net together (epsilon or v prediction, as the
              schedule names, with min-SNR weighting, 10 % caption dropout to the empty prompt, 50 %
              summary dropout (the end and padding positions replaced by the empty prompt's), a
              constant learning rate after warm-up and an EMA of the weights, so a longer run only
              adds steps), with metrics every 10 minutes
    export    write the EMA weights as fp16 safetensors in diffusers' layout

Every random draw of step k comes from a generator seeded by (stage, k), so a resumed run takes
the same batches as an uninterrupted one.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import pathlib
import shutil
import sys
import time

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import CLIPTokenizer

import architecture
import corpus
import evaluate
import features
import vocabulary

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "reference"))
from clip_fixtures import write_tokenizer_files  # noqa: E402

CHECKPOINT_SECONDS = 600
CAPTION_DROPOUT = 0.1
# CLIP's causal attention lets the end token and the padding after it see the whole caption, so a
# U-Net can read everything from those 70 positions and ignore the words' own (the first shipped
# models did: 83 % of their cross-attention went to padding, and reweighting a word did nothing).
# Half of the training captions therefore have that summary replaced by the empty prompt's, and
# the U-Net must learn to find each sound at its word's position.
SUMMARY_DROPOUT = 0.5
MIN_SNR_GAMMA = 5.0
DECODER_LEARNING_RATE = 5e-4


LOG: list[pathlib.Path] = []   # the work folder's train.log, once main() knows it


def log(message: str) -> None:
    line = f"{time.strftime('%H:%M:%S')} {message}"
    print(line, flush=True)
    for path in LOG:
        with path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


def generator(stage: int, step: int) -> torch.Generator:
    return torch.Generator().manual_seed(stage * 1_000_003 + step)


class Checkpointer:
    """Saves `state()` to a file every CHECKPOINT_SECONDS and when asked."""

    def __init__(self, path: pathlib.Path):
        self.path, self.last = path, time.monotonic()

    def load(self):
        return torch.load(self.path) if self.path.exists() else None

    def maybe_save(self, state, force: bool = False) -> bool:
        if not force and time.monotonic() - self.last < CHECKPOINT_SECONDS:
            return False
        temporary = self.path.with_suffix(".tmp")
        torch.save(state(), temporary)
        temporary.replace(self.path)
        self.last = time.monotonic()
        return True


# ---------------------------------------------------------------------------------------------

def corpus_fingerprint(count: int) -> str:
    """What the corpus is made from: the clip count and the scripts that synthesise and analyse it
    (features.py's analysis is the reference front end's, so that script counts too)."""
    digest = hashlib.sha256(str(count).encode())
    for module in (corpus, features, features.reference, vocabulary):
        digest.update(pathlib.Path(module.__file__).read_bytes())
    return digest.hexdigest()


def build_corpus(work: pathlib.Path, count: int) -> None:
    """Synthesises the corpus once; a work folder made from other scripts is refused, since every
    later stage would silently train on its stale clips."""
    stamp, fingerprint = work / "corpus.sha256", corpus_fingerprint(count)
    if (work / "images.npy").exists():
        if not stamp.exists() or stamp.read_text().strip() != fingerprint:
            sys.exit(f"{work} holds a corpus made by other corpus scripts or clip count; pass a new --work folder")
        return
    log(f"corpus: {count} clips")
    captions, chunks = [], []
    for start in range(0, count, 256):
        batch = [corpus.clip(index) for index in range(start, min(start + 256, count))]
        captions += [caption for _, caption in batch]
        chunks.append(features.images(np.stack([samples for samples, _ in batch])).astype(np.float16))
    np.save(work / "images.npy", np.concatenate(chunks))
    (work / "captions.json").write_text(json.dumps(captions))
    write_tokenizer_files(work / "tokenizer", vocabulary.learn_merges(corpus.words()), "auffusion-mini")
    stamp.write_text(fingerprint + "\n")


def as_vae_input(images: np.ndarray) -> torch.Tensor:
    """[B, 64, 256] images in [0, 1] -> [B, 3, 64, 256] in [-1, 1], as LatentCodec feeds the VAE."""
    x = torch.from_numpy(images.astype(np.float32)) * 2 - 1
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def train_l1_stage(name: str, stage: int, path: pathlib.Path, vae, optimizer, steps: int, batch: int,
                   count: int, learning_rate, losses) -> bool:
    """The resumable loop of the two image stages: `batch` random indices of `count` images per
    step, `learning_rate(step)`, `losses(indices, generator)` -> (loss, L1 in [-1, 1] units).
    Returns whether any step ran."""
    checkpoints = Checkpointer(path)
    step = 0
    if (saved := checkpoints.load()) is not None:
        vae.load_state_dict(saved["model"]), optimizer.load_state_dict(saved["optimizer"])
        step = saved["step"]
    if step >= steps:
        return False
    trained = sum(p.numel() for p in vae.parameters() if p.requires_grad)
    log(f"{name}: {trained / 1e6:.2f} M trained parameters, step {step} of {steps}")
    started, first, running = time.monotonic(), step, 0.0
    while step < steps:
        g = generator(stage, step)
        index = torch.randint(count, (batch,), generator=g).sort().values.numpy()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step)
        loss, l1 = losses(index, g)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        running = 0.98 * running + 0.02 * l1.item() if step > 1 else l1.item()
        if step % 50 == 0:
            rate = (time.monotonic() - started) / (step - first)
            log(f"{name} step {step}/{steps}  L1 {running / 2:.4f} (image units)  {rate:.2f} s/step")
        state = lambda: {"model": vae.state_dict(), "optimizer": optimizer.state_dict(), "step": step}
        checkpoints.maybe_save(state, force=step == steps)
    return True


def train_vae(work: pathlib.Path, steps: int, batch: int) -> None:
    images = np.load(work / "images.npy", mmap_mode="r")
    torch.manual_seed(1)
    vae = architecture.autoencoder()
    optimizer = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)

    def losses(index: np.ndarray, g: torch.Generator):
        x = as_vae_input(images[index])
        posterior = vae.encode(x).latent_dist
        z = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=g)
        l1 = (vae.decode(z).sample - x).abs().mean()
        return l1 + 1e-6 * posterior.kl().mean(), l1

    warm_cosine = lambda step: 1e-3 * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
    if train_l1_stage("vae", 1, work / "vae.pt", vae, optimizer, steps, batch, len(images), warm_cosine, losses):
        (work / "latents.npz").unlink(missing_ok=True)
        (work / "decoder.pt").unlink(missing_ok=True)


def encode_latents(work: pathlib.Path) -> None:
    if (work / "latents.npz").exists():
        return
    vae = load_vae(work)
    images = np.load(work / "images.npy", mmap_mode="r")
    means, stds = [], []
    with torch.no_grad():
        for start in range(0, len(images), 256):
            posterior = vae.encode(as_vae_input(images[start:start + 256])).latent_dist
            means.append(posterior.mean.numpy()), stds.append(posterior.std.numpy())
    mean, std = np.concatenate(means), np.concatenate(stds)
    scaling = float(1 / mean.std())
    log(f"latents: {mean.shape}, scaling factor {scaling:.5f}")
    np.savez(work / "latents.npz", mean=mean, std=std, scaling=scaling)


def refine_decoder(work: pathlib.Path, steps: int, batch: int) -> None:
    """Trains the decoder alone on the stored latents (posterior samples), the encoder frozen, so
    the latents and every later stage stay as they are. The jointly trained VAE put a pure low tone
    a mel band too low (232 Hz came back at 185 Hz), which a restyle at strength 0.1 then kept."""
    lat = np.load(work / "latents.npz")
    mean, std = torch.from_numpy(lat["mean"]), torch.from_numpy(lat["std"])
    images = np.load(work / "images.npy", mmap_mode="r")
    vae = load_vae(work).train()
    trained = list(vae.decoder.parameters()) + list(vae.post_quant_conv.parameters())
    vae.requires_grad_(False)
    for parameter in trained:
        parameter.requires_grad_(True)
    optimizer = torch.optim.AdamW(trained, lr=DECODER_LEARNING_RATE, weight_decay=0.0)

    def losses(index: np.ndarray, g: torch.Generator):
        z = mean[index] + std[index] * torch.randn(mean[index].shape, generator=g)
        l1 = (vae.decode(z).sample - as_vae_input(images[index])).abs().mean()
        return l1, l1

    cosine = lambda step: DECODER_LEARNING_RATE * 0.5 * (1 + math.cos(math.pi * step / steps))
    train_l1_stage("decoder", 3, work / "decoder.pt", vae, optimizer, steps, batch, len(images), cosine, losses)


def load_vae(work: pathlib.Path):
    """The VAE: its refined decoder once that stage has run (the encoder is the same in both)."""
    vae = architecture.autoencoder()
    path = work / "decoder.pt" if (work / "decoder.pt").exists() else work / "vae.pt"
    vae.load_state_dict(torch.load(path)["model"])
    return vae.eval()


def load_tokenizer(work: pathlib.Path) -> CLIPTokenizer:
    return CLIPTokenizer.from_pretrained(str(work / "tokenizer"))


def text_encoder_for(tokenizer: CLIPTokenizer):
    return architecture.text_encoder(len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id)


class Averaged:
    """Exponential moving average of a module's parameters, with warm-up of the decay."""

    def __init__(self, module: torch.nn.Module, decay: float):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for key, value in module.state_dict().items():
            if value.dtype.is_floating_point:
                self.shadow[key].mul_(decay).add_(value, alpha=1 - decay)
            else:
                self.shadow[key].copy_(value)


def noise_schedule(work: pathlib.Path, requested: str | None) -> str:
    """The work folder's noise schedule: chosen by its first U-Net run and kept, since a resumed
    run or an export with another schedule would not be the model that was trained."""
    path = work / "noise_schedule.txt"
    recorded = path.read_text().strip() if path.exists() else None
    if recorded and requested and requested != recorded:
        raise SystemExit(f"{work} was trained with the {recorded} schedule, not {requested}")
    chosen = recorded or requested or architecture.DEFAULT_SCHEDULE
    path.write_text(chosen + "\n")
    return chosen


def loss_weight(alpha_bar: torch.Tensor, predicts_velocity: bool) -> torch.Tensor:
    """Per-sample weights of the squared error. For epsilon, min-SNR-gamma (Hang et al. 2023):
    min(snr, gamma) / snr. For v, whose error is (snr + 1) times the clip's, the same cap on
    snr + 1: weight 1 wherever the signal is weak, so the steps that must draw the clip from the
    words alone keep their full weight (the min-SNR form would give them almost none)."""
    snr = alpha_bar / (1 - alpha_bar)
    if predicts_velocity:
        return torch.clamp(snr + 1, max=MIN_SNR_GAMMA) / (snr + 1)
    return torch.clamp(snr, max=MIN_SNR_GAMMA) / snr


def without_summary(encoded: torch.Tensor, tokens: torch.Tensor, empty: torch.Tensor, chosen: torch.Tensor,
                    eos: int) -> torch.Tensor:
    """`encoded` [B, 77, width] with, in the `chosen` rows, every position from the caption's first
    end token on replaced by the empty prompt's encoding there."""
    position = torch.arange(tokens.shape[1])
    first_end = torch.where(tokens == eos, position, tokens.shape[1]).min(dim=1).values
    replace = chosen[:, None] & (position[None, :] >= first_end[:, None])
    return torch.where(replace[..., None], empty[None], encoded)


def train_unet(work: pathlib.Path, steps: int, batch: int, learning_rate: float, schedule: str) -> None:
    latents = np.load(work / "latents.npz")
    mean, std, scaling = torch.from_numpy(latents["mean"]), torch.from_numpy(latents["std"]), float(latents["scaling"])
    captions = json.loads((work / "captions.json").read_text())
    tokenizer = load_tokenizer(work)
    ids = torch.tensor(tokenizer(captions + [""], padding="max_length", max_length=77).input_ids)
    empty = ids[-1]
    torch.manual_seed(2)
    unet, text = architecture.unet(), text_encoder_for(tokenizer)
    parameters = list(unet.parameters()) + list(text.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.01)
    averaged_unet, averaged_text = Averaged(unet, 0.999), Averaged(text, 0.999)
    noise_schedule = architecture.training_noise(schedule)
    alphas = noise_schedule.alphas_cumprod
    predicts_velocity = noise_schedule.config.prediction_type == "v_prediction"
    target = noise_schedule.get_velocity if predicts_velocity else (lambda x0, noise, t: noise)
    checkpoints = Checkpointer(work / "unet.pt")
    step, history = 0, []
    if (saved := checkpoints.load()) is not None:
        unet.load_state_dict(saved["unet"]), text.load_state_dict(saved["text"])
        optimizer.load_state_dict(saved["optimizer"])
        averaged_unet.shadow, averaged_text.shadow = saved["ema_unet"], saved["ema_text"]
        step, history = saved["step"], saved["history"]
    count = sum(p.numel() for p in parameters)
    log(f"unet + text: {count / 1e6:.2f} M parameters, step {step} of {steps}, scaling {scaling:.4f}")
    started, first, running = time.monotonic(), step, None
    last_evaluation = time.monotonic()
    state = lambda: {"unet": unet.state_dict(), "text": text.state_dict(), "optimizer": optimizer.state_dict(),
                     "ema_unet": averaged_unet.shadow, "ema_text": averaged_text.shadow, "step": step,
                     "history": history, "scaling": scaling}
    while step < steps:
        g = generator(2, step)
        index = torch.randint(len(mean), (batch,), generator=g)
        x0 = (mean[index] + std[index] * torch.randn(mean[index].shape, generator=g)) * scaling
        tokens = torch.where((torch.rand(batch, generator=g) < CAPTION_DROPOUT)[:, None], empty, ids[index])
        noise = torch.randn(x0.shape, generator=g)
        t = torch.randint(0, 1000, (batch,), generator=g)
        noisy = noise_schedule.add_noise(x0, noise, t)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate * min(1.0, (step + 1) / 300)
        encoded = text(torch.cat([tokens, empty[None]]))[0]
        hidden = without_summary(encoded[:-1], tokens, encoded[-1], torch.rand(batch, generator=g) < SUMMARY_DROPOUT,
                                 tokenizer.eos_token_id)
        prediction = unet(noisy, t, encoder_hidden_states=hidden).sample
        loss = (loss_weight(alphas[t], predicts_velocity)
                * ((prediction - target(x0, noise, t)) ** 2).mean(dim=(1, 2, 3))).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        averaged_unet.update(unet, step), averaged_text.update(text, step)
        step += 1
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 50 == 0:
            rate = (time.monotonic() - started) / (step - first)
            log(f"unet step {step}/{steps}  loss {running:.4f}  {rate:.2f} s/step  "
                f"eta {(steps - step) * rate / 60:.0f} min")
        if time.monotonic() - last_evaluation >= CHECKPOINT_SECONDS or step == steps:
            metrics = evaluate.metrics(work, averaged_unet.shadow, averaged_text.shadow, scaling, schedule)
            history.append({"step": step, "loss": running, "minutes": (time.monotonic() - started) / 60, **metrics})
            log(f"metrics at step {step}: {json.dumps(metrics)}")
            last_evaluation = time.monotonic()
            checkpoints.maybe_save(state, force=True)


def export(work: pathlib.Path, out: pathlib.Path, schedule: str) -> None:
    saved = torch.load(work / "unet.pt")
    tokenizer = load_tokenizer(work)
    temporary = out.with_name(out.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    unet, text = architecture.unet(), text_encoder_for(tokenizer)
    unet.load_state_dict(saved["ema_unet"]), text.load_state_dict(saved["ema_text"])
    vae = load_vae(work)
    vae.register_to_config(scaling_factor=saved["scaling"])
    for name, model in [("unet", unet), ("vae", vae), ("text_encoder", text)]:
        model.save_pretrained(temporary / name, safe_serialization=True)
        weights = next((temporary / name).glob("*.safetensors"))
        save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, weights,
                  metadata={"format": "pt"})
    shutil.copytree(work / "tokenizer", temporary / "tokenizer")
    architecture.shipped_scheduler(schedule).save_config(temporary / "scheduler")
    # As in Auffusion's (and Stable Diffusion's) folder: PNDM ignores clip_sample, but a DDIM
    # scheduler built from this config would otherwise clamp x0 to [-1, 1] (its own default).
    config_path = temporary / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    config["clip_sample"] = False
    config_path.write_text(json.dumps(dict(sorted(config.items())), indent=2) + "\n")
    (temporary / "vocoder").mkdir()
    (temporary / "vocoder" / "config.json").write_text(json.dumps(features.vocoder_config(), indent=2) + "\n")
    (temporary / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.18.2",
        "scheduler": ["diffusers", "PNDMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"]}, indent=2) + "\n")
    (temporary / "training.json").write_text(json.dumps({"history": saved["history"], "steps": saved["step"]},
                                                        indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    temporary.rename(out)
    log(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path(".mini-work"))
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--clips", type=int, default=16000)
    parser.add_argument("--vae-steps", type=int, default=700)
    parser.add_argument("--vae-batch", type=int, default=8)
    parser.add_argument("--decoder-steps", type=int, default=400)
    parser.add_argument("--decoder-batch", type=int, default=16)
    parser.add_argument("--unet-steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--schedule", choices=sorted(architecture.NOISE_SCHEDULES),
                        help=f"the U-Net's noise schedule (default {architecture.DEFAULT_SCHEDULE}; a work "
                             "folder keeps the one it started with)")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.set_flush_denormal(True)   # trained weights make subnormal activations, 10x slower on x86
    arguments.work.mkdir(parents=True, exist_ok=True)
    LOG.append(arguments.work / "train.log")
    build_corpus(arguments.work, arguments.clips)
    train_vae(arguments.work, arguments.vae_steps, arguments.vae_batch)
    encode_latents(arguments.work)
    refine_decoder(arguments.work, arguments.decoder_steps, arguments.decoder_batch)
    schedule = noise_schedule(arguments.work, arguments.schedule)
    train_unet(arguments.work, arguments.unet_steps, arguments.batch, arguments.learning_rate, schedule)
    export(arguments.work, arguments.out, schedule)


if __name__ == "__main__":
    main()
