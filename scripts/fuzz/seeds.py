"""Writes the seed corpora of the fuzz targets into Fuzz/corpus/<target>/ (docs/reliability.md).

Seeds are small valid inputs (and a few known-damaged ones) from which libFuzzer mutates:
audio in every container libsndfile reads, the weight-file fixtures, every configuration file of
the embedded model, .npy arrays, tokenizer files, prompts, edit plans and batch files. Run with the reference virtualenv
(it has soundfile and numpy): .venv-reference/bin/python scripts/fuzz/seeds.py
"""
import io
import json
import pathlib
import shutil
import zipfile

import numpy as np
import soundfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "Fuzz" / "corpus"
MINI = ROOT / "Sources" / "Pipeline" / "Resources" / "auffusion-mini"
WEIGHTS = ROOT / "Tests" / "Fixtures" / "weights"


def seed(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def audio():
    t = np.arange(800) / 8000
    mono = (0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    stereo = np.stack([mono, mono[::-1]], axis=1)
    for name, fmt, subtype, data in [
        ("pcm16.wav", "WAV", "PCM_16", mono), ("float.wav", "WAV", "FLOAT", stereo),
        ("pcm24.aiff", "AIFF", "PCM_24", mono), ("stereo.flac", "FLAC", "PCM_16", stereo),
        ("mono.ogg", "OGG", "VORBIS", mono), ("ulaw.wav", "WAV", "ULAW", mono),
    ]:
        buffer = io.BytesIO()
        soundfile.write(buffer, data, 8000, format=fmt, subtype=subtype)
        seed("audio", name, buffer.getvalue())
    ogg = (CORPUS / "audio" / "mono.ogg").read_bytes()
    seed("audio", "truncated.ogg", ogg[:-35])
    flac = bytearray((CORPUS / "audio" / "stereo.flac").read_bytes())
    flac[21] &= 0xF0
    flac[22:26] = b"\0\0\0\0"
    seed("audio", "unknown-length.flac", bytes(flac))


def weights():
    for name in ["mixed.safetensors", "shard-00001-of-00002.safetensors"]:
        seed("safetensors", name, (WEIGHTS / name).read_bytes())
    for name in ["plain.pt", "legacy_plain.pt", "views.pt", "protocol4.pt", "zip64.pt", "malicious_inst.pt"]:
        seed("torch", name, (WEIGHTS / name).read_bytes())
    for name in ["plain.pt", "protocol4.pt", "nested.pt", "malicious_stack_global.pt"]:
        with zipfile.ZipFile(WEIGHTS / name) as archive:
            pickle = next(entry for entry in archive.namelist() if entry.endswith("data.pkl"))
            seed("pickle", name.replace(".pt", ".pkl"), archive.read(pickle))


def configurations():
    selectors = {"unet": 0, "vae": 1, "text_encoder": 2, "vocoder": 4}
    for folder, selector in selectors.items():
        data = (MINI / folder / "config.json").read_bytes()
        seed("configuration", f"{folder}.json", bytes([selector]) + data)
    seed("configuration", "mel.json", bytes([5]) + (MINI / "vocoder" / "config.json").read_bytes())
    seed("configuration", "scheduler.json", bytes([6]) + (MINI / "scheduler" / "scheduler_config.json").read_bytes())
    seed("configuration", "dpm.json", bytes([6]) + b'{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity}')
    seed("configuration", "adapter.json", bytes([3]) + json.dumps({"condition_dim": 768, "cross_attention_dim": 768}).encode())
    seed("configuration", "hifigan.json", bytes([4]) + json.dumps({
        "resblock": "1", "upsample_rates": [5, 4, 4, 2], "upsample_kernel_sizes": [11, 8, 8, 4],
        "upsample_initial_channel": 512, "resblock_kernel_sizes": [3, 7, 11],
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "num_mels": 256}).encode())
    seed("configuration", "index.json", bytes([7]) + (WEIGHTS / "shards.safetensors.index.json").read_bytes())
    seed("configuration", "json5-crash.json", bytes([6]) + b'{"":"",\xfc _dif')


def arrays():
    for name, array in [("noise.npy", np.random.default_rng(0).standard_normal((1, 4, 2, 8)).astype(np.float32)),
                        ("f64.npy", np.arange(6, dtype=np.float64).reshape(2, 3)),
                        ("i16.npy", np.arange(4, dtype=np.int16)), ("scalar.npy", np.float32(1.5))]:
        buffer = io.BytesIO()
        np.save(buffer, array)
        seed("npy", name, buffer.getvalue())


def text():
    vocab = json.dumps({t: i for i, t in enumerate(["a", "b", "ab", "a</w>", "b</w>", "ab</w>",
                                                     "<|startoftext|>", "<|endoftext|>"])}).encode()
    seed("tokenizer-files", "tiny", vocab + b"\0#version: 0.2\na b\na b</w>\n")
    seed("tokenizer-files", "with-config", vocab + b"\0#version: 0.2\na b\n\0" + (MINI / "tokenizer" / "tokenizer_config.json").read_bytes())
    for name, prompt in [("dog", "a dog barking in the distance"), ("mixed", "Rain & THUNDER, 3 times... <|endoftext|> ok"),
                         ("unicode", "caf\u00e9 \u72ac \U0001F415 it's won't")]:
        seed("prompt", name, prompt.encode())


def plans():
    """Edit plans and batch files: the documented examples, every key of the schema, and the
    reproductions of issue #22 (a key twice, JSON5, deep nesting, NaN, a CRLF file)."""
    clip = {"from": "clip", "strength": 0.6}
    every_key = {"input": "clip.wav", "output": "out/edited.flac", "passes": [
        {"prompt": "a dog barking", "start": clip, "steps": 3, "guidance": 2.5, "negative": "noise", "scheduler": "dpmpp"},
        {"prompt": "a cat barking", "start": {"from": "previous", "strength": 0.5}, "steps": 2,
         "mask": {"ranges": [[0.1, 0.3], [0.5, 0.6]], "band": [0, 4000]},
         "attention": {"source": "a dog barking", "alignment": "swap", "weights": {"cat": 2},
                       "cross_replace": 0.8, "cross_replace_words": {"cat": [0.1, 0.5], "barking": 0.3},
                       "self_replace": 0.4, "blend": ["cat"], "blend_resolution": "8x32"}},
        {"prompt": "a cat, purring", "start": {"from": "noise"}, "steps": 1,
         "attention": {"source": "a cat barking", "alignment": "refine", "shared_noise": False}},
    ]}
    noise = {"output": "beep.wav", "passes": [{"prompt": "a low beep", "start": {"from": "noise"}, "steps": 2,
                                                "attention": {"source": "a high beep", "alignment": "none", "weights": {"low": 0.5}}}]}
    for name, text in [("every-key.json", json.dumps(every_key, indent=1)), ("noise.json", json.dumps(noise)),
                       ("twice.json", '{"output": "a.wav", "passes": [], "output": "../b.wav"}'),
                       ("json5.json", '{passes: [{"prompt": "a", "start": {"from": "noise"},},], // note\n}'),
                       ("deep.json", "[" * 80 + "]" * 80), ("nan.json", '{"passes": [{"prompt": "a", "start": {"from": "clip", "strength": NaN}}]}')]:
        seed("edit-plan", name, text.encode())
    lines = [json.dumps({"prompt": "a dog", "output": "dogs/dog.flac", "seed": 3}),
             json.dumps({"prompt": "rain", "negative": "wind", "steps": 2, "guidance": 3.5, "duration": 1.5}),
             "", json.dumps({"prompt": "rain", "output": "../escaped.wav"}), '{"promt": "typo"}',
             '{"prompt": "a", "prompt": "b"}', json.dumps({"prompt": "x", "output": "dogs/dog.flac"})]
    seed("batch", "generate.jsonl", bytes([2]) + "\n".join(lines).encode())
    seed("batch", "crlf-seeds.jsonl", bytes([8]) + b"1,5-6\n" + "\r\n".join(lines[:2]).encode())
    edits = [json.dumps(dict(every_key, seed=4)), json.dumps(noise), json.dumps(dict(noise, seed=-1)),
             '{"seed": 1, "seed": 2, "passes": []}', "[" * 80 + "]" * 80]
    seed("batch", "edits.jsonl", bytes([1]) + "\n".join(edits).encode())


if __name__ == "__main__":
    shutil.rmtree(CORPUS, ignore_errors=True)
    audio()
    weights()
    configurations()
    arrays()
    text()
    plans()
    print(f"wrote {sum(1 for _ in CORPUS.rglob('*') if _.is_file())} seeds to {CORPUS}")
