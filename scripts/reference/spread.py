#!/usr/bin/env python3
"""The reference's own float32-vs-float64 spread on the end-to-end and edit cases (docs/parity.md).

A parity bound cannot be tighter than the reference is precise: this reruns the Python pipeline
of pipeline_fixtures.py (every case) and the edits of editing_fixtures.py (every case) once in
float32, as the fixtures were made, and once with every model, latent and noise tensor in
float64, and prints the NMSE (sum (f32 - f64)^2 / sum f64^2) and max |f32 - f64| of each log-mel, and the
same measures of the float32 run against the committed fixture (0 on the machine that wrote it).
It writes nothing. Run from the repository root with the reference virtualenv:

    .venv-reference/bin/python scripts/reference/spread.py
"""
import pathlib
import sys

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import editing_fixtures  # noqa: E402
import pipeline_fixtures  # noqa: E402

FIXTURES = HERE.parent.parent / "Tests" / "Fixtures"


def spread(single: torch.Tensor, double: torch.Tensor) -> str:
    difference = single.double() - double
    nmse = float((difference ** 2).sum() / (double ** 2).sum())
    return f"nmse {nmse:.2e}  max|d| {float(difference.abs().max()):.2e}"


def against_fixture(single: torch.Tensor, relative_path: str) -> str:
    """The float32 run against the committed fixture: 0 on the machine that wrote it; on another CPU
    (another BLAS code path) the reference's own machine-to-machine spread."""
    return "fixture " + spread(single, torch.from_numpy(np.load(FIXTURES / relative_path)).double())


def pipeline_models(dtype: torch.dtype) -> dict:
    models = {}
    for layout in ("adapter", "standard"):
        folder = FIXTURES / "pipeline" / layout
        tokenizer_dir = folder / ("text_encoder_0" if layout == "adapter" else "tokenizer")
        models[layout] = load_layout(folder, layout, tokenizer_dir, dtype)
    return models


def load_layout(folder, layout, tokenizer_dir, dtype):
    import shutil
    import tempfile
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import AutoTokenizer, CLIPTextModel, CLIPTokenizer
    from clip_fixtures import ConditionAdapter
    from vocoder_fixtures import Generator
    scratch = pathlib.Path(tempfile.mkdtemp())
    name = "text_encoder_0" if layout == "adapter" else "text_encoder"
    shutil.copytree(folder / name, scratch / name)
    for file in pipeline_fixtures.TOKENIZER_FILES:
        shutil.copy(FIXTURES / "clip" / "tokenizer" / file, scratch / name / file)
    tokenizer = (AutoTokenizer if layout == "adapter" else CLIPTokenizer).from_pretrained(scratch / name)
    encoder = CLIPTextModel.from_pretrained(scratch / name).to(dtype).eval()
    adapter = None
    if layout == "adapter":
        adapter = ConditionAdapter(pipeline_fixtures.CONDITION).eval()
        adapter.load_state_dict(torch.load(folder / "condition_adapter_0" / "condition_adapter.pt"))
        adapter = adapter.to(dtype)
    unet = UNet2DConditionModel.from_pretrained(folder / "unet").to(dtype).eval()
    vae = AutoencoderKL.from_pretrained(folder / "vae").to(dtype).eval()
    vocoder = Generator(pipeline_fixtures.VOCODER_CONFIG).eval()
    vocoder.load_state_dict(torch.load(folder / "vocoder" / "vocoder.pt")["generator"])
    return tokenizer, encoder, adapter, unet, vae, vocoder.to(dtype)


def main() -> None:
    torch.set_num_threads(1)
    import json
    singles, doubles = pipeline_models(torch.float32), pipeline_models(torch.float64)
    print("end to end (pipeline/cases.json), log-mel:")
    for case in json.loads((FIXTURES / "pipeline" / "cases.json").read_text()):
        noise = torch.randn([1, 4, pipeline_fixtures.MELS // 4, pipeline_fixtures.CANVAS // 4],
                            generator=torch.Generator().manual_seed(case["noise_seed"]))
        runs = [pipeline_fixtures.reference_run(models, case["layout"], case["scheduler"], case["negative_prompt"],
                                                noise.to(dtype), steps=case["steps"], guidance=case["guidance"],
                                                rescale=case["guidance_rescale"])[0]
                for models, dtype in ((singles, torch.float32), (doubles, torch.float64))]
        name = case["name"]
        print(f"  {name:30} f64 {spread(*runs)}   {against_fixture(runs[0], f'pipeline/{name}.mel.npy')}")
    print("edits (editing/cases.json), log-mel:")
    runs = {}
    for dtype in (torch.float32, torch.float64):
        tokenizer, encoder, unet, vae = editing_fixtures.load_models(FIXTURES / "pipeline" / "standard", FIXTURES / "clip")
        z0 = editing_fixtures.clip_latents(editing_fixtures.clip_samples(), vae).to(dtype)  # the encoding in float32
        encoder, unet, vae = encoder.to(dtype), unet.to(dtype), vae.to(dtype)
        context = torch.cat([pipeline_fixtures.embeddings(tokenizer, encoder, None, ""),
                             pipeline_fixtures.embeddings(tokenizer, encoder, None, editing_fixtures.PROMPT)])
        for name, kind, strength, seed, ranges in editing_fixtures.CASES:
            runs.setdefault(name, []).append(
                editing_fixtures.run_case(kind, strength, seed, ranges, z0, unet, vae, context))
    for name, (single, double) in runs.items():
        print(f"  {name:30} f64 {spread(single, double)}   {against_fixture(single, f'editing/{name}.mel.npy')}")


if __name__ == "__main__":
    main()
