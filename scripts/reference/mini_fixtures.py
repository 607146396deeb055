"""Golden fixtures for the embedded model (docs/mini-model.md): what diffusers' own
StableDiffusionPipeline makes of the shipped weights, so that the Swift pipeline is shown to run
the trained model as the reference does (and not only random-weight folders).

Run through the dispatcher, never by hand (`make mini-model` runs it after training):

    python scripts/reference/generate.py mini_fixtures      # writes Tests/Fixtures/mini/

The model folder is read as published, from Sources/Pipeline/Resources/auffusion-mini (fp16
safetensors, widened to float32 by diffusers' loader as by the Swift one).

Files written:
    cases.json                  per case: name, prompt, steps, guidance, seed (torch.randn of the
                                initial latents [1, 4, 8, 32]), scheduler: "pndm" (the folder's) or
                                "ddim" (DDIMScheduler.from_config of the folder's config, as a user
                                swapping samplers gets it: v prediction, clip_sample from the file)
    <name>.image.npy            channel 0 of the pipeline's output image [64, 256], float32 in [0, 1]
                                (output_type="np": decode, x / 2 + 0.5, clamp)
"""
import json
import pathlib

import numpy as np
import torch
from diffusers import AutoencoderKL, DDIMScheduler, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

MODEL = pathlib.Path(__file__).resolve().parents[2] / "Sources" / "Pipeline" / "Resources" / "auffusion-mini"
CASES = [("high_beep", "a high pitched beep", 10, 5.0, 0, "pndm"),
         ("noise_then_tone", "white noise followed by a sine tone", 12, 7.5, 1, "pndm"),
         ("low_tone_ddim", "a low pitched sine tone", 10, 5.0, 2, "ddim")]


def generate(out_dir: pathlib.Path) -> None:
    torch.set_num_threads(1)
    pipeline = StableDiffusionPipeline(
        vae=AutoencoderKL.from_pretrained(MODEL / "vae"), text_encoder=CLIPTextModel.from_pretrained(MODEL / "text_encoder"),
        tokenizer=CLIPTokenizer.from_pretrained(MODEL / "tokenizer"), unet=UNet2DConditionModel.from_pretrained(MODEL / "unet"),
        scheduler=PNDMScheduler.from_pretrained(MODEL / "scheduler"), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)
    height, width = pipeline.vae.config.sample_size   # the image canvas: 64 mel bands x 256 frames
    samplers = {"pndm": pipeline.scheduler, "ddim": DDIMScheduler.from_config(pipeline.scheduler.config)}
    cases = []
    for name, prompt, steps, guidance, seed, sampler in CASES:
        pipeline.scheduler = samplers[sampler]
        latents = torch.randn([1, 4, height // 8, width // 8], generator=torch.Generator().manual_seed(seed))
        image = pipeline(prompt, height=height, width=width, num_inference_steps=steps, guidance_scale=guidance,
                         latents=latents, output_type="np").images[0]
        np.save(out_dir / f"{name}.image.npy", image[:, :, 0].astype("<f4"))
        cases.append({"name": name, "prompt": prompt, "steps": steps, "guidance": guidance, "seed": seed,
                      "scheduler": sampler})
    (out_dir / "cases.json").write_text(json.dumps(cases, indent=2) + "\n")
