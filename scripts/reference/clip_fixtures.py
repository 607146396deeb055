"""Golden fixtures for the text conditioning (spec section 3): the CLIP tokenizer, CLIPTextModel
and Auffusion's ConditionAdapter.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py clip_fixtures      # writes Tests/Fixtures/clip/

The reference is transformers 4.30.2 without ftfy (the slow `CLIPTokenizer` then cleans text with
its BERT `BasicTokenizer`; the script refuses to run if ftfy is importable), torch 2.0.1 and
safetensors 0.3.1. The vocabulary is the real CLIP one, converted from open_clip's
`bpe_simple_vocab_16e6.txt.gz` into the files of openai/clip-vit-large-patch14.

Files written:
    tokenizer/vocab.json            49,408 entries in id order: the 256 byte symbols, the same with
                                    "</w>", the 48,894 merge results, <|startoftext|>, <|endoftext|>
    tokenizer/merges.txt            "#version: 0.2" then the 48,894 merges, one per line
    tokenizer/tokenizer_config.json, special_tokens_map.json   as openai/clip-vit-large-patch14
    captions.json       {"known": [{"text", "ids"}], "fast_differs": {family: count},
                         "captions": [{"family", "text", "ids", "padded", "fast"?}]}
                        ids = tokenizer(text).input_ids (no padding, no truncation);
                        padded = tokenizer(text, padding="max_length", max_length=77, truncation=True),
                        stored only where len(ids) > 77; elsewhere it is ids + [49407] * (77 - len(ids)),
                        which the script checks for every caption;
                        fast = CLIPTokenizerFast(text).input_ids, present only where it differs from ids
    word_indices.json   [{"text", "words": [[positions of word k]], "raises": bool, "query", "query_positions",
                          "decoded"}]
                        words[k] = get_word_inds(text, k) as prompt2prompt/ptp_utils.py computes it;
                        where the reference raises IndexError (it runs out of words before tokens),
                        `raises` is true and words[k] holds what it had assigned before the error;
                        query_positions = get_word_inds(text, query); decoded = tokenizer.decode(ids)
    text_quick_gelu/    config.json, pytorch_model.bin (fp32), model.safetensors (fp32)
    text_gelu/          config.json, pytorch_model.bin (fp32), model.safetensors (fp16)
    text_models.json    per model: folder, inputs (token ids), and the checks: weight file, output
                        .npy (last_hidden_state, float32), tolerance
    clip_large_synthetic.json, clip_large_synthetic.npy   openai/clip-vit-large-patch14's text tower with
                        synthetic weights (synthetic.py) on the tokenized `prompt`: last_hidden_state [1, 77, 768]
    condition_adapter_0/   config.json (Auffusion's keys), condition_adapter.pt (torch.save state_dict)
    adapter_input.npy, adapter_output.npy    [1, 77, 32] -> [1, 77, 24]
"""
import gzip
import importlib.util
import json
import logging
import pathlib
import shutil

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, CLIPTokenizerFast

import clip_captions
from synthetic import fill_synthetic

MAX_LENGTH = 77
MERGE_COUNT = 49152 - 256 - 2  # what transformers reads from merges.txt: lines 1 ..< 48,895
WORD_INDEX_SAMPLE = {"fixed": 100, "boundary": 3, "plain": 120, "punctuation": 60, "numbers": 40,
                     "apostrophes": 60, "unicode": 100, "control": 50, "whitespace": 50, "case": 40,
                     "special": 10, "long": 20}
KNOWN = [("a photo of a cat", [49406, 320, 1125, 539, 320, 2368, 49407])]
TEXT_MODELS = {
    "text_quick_gelu": dict(vocab_size=1000, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                            num_attention_heads=4, max_position_embeddings=77, hidden_act="quick_gelu",
                            layer_norm_eps=1e-5),
    "text_gelu": dict(vocab_size=1200, hidden_size=48, intermediate_size=80, num_hidden_layers=3,
                      num_attention_heads=6, max_position_embeddings=77, hidden_act="gelu",
                      layer_norm_eps=1e-6),
}
ADAPTER_CONFIG = {
    "text_encoder_name": "text_encoder_0", "condition_adapter_name": "condition_adapter_0",
    "condition_type": "clip-vit-large-patch14_text", "pretrained_model_name_or_path": "openai/clip-vit-large-patch14",
    "condition_max_length": 77, "condition_dim": 32, "cross_attention_dim": 24,
}
SPECIAL = {"content": None, "lstrip": False, "normalized": True, "rstrip": False, "single_word": False}


# ---------------------------------------------------------------------------------------------
# Tokenizer files (spec 3.1)
# ---------------------------------------------------------------------------------------------

def write_tokenizer_files(folder: pathlib.Path, merges: list[str] | None = None,
                          model_name: str = "openai/clip-vit-large-patch14") -> None:
    """The four tokenizer files of a CLIP BPE vocabulary: the 256 byte symbols, the same with
    "</w>", one entry per merge result, then <|startoftext|> and <|endoftext|>.

    Without `merges`, the real CLIP vocabulary (openai/clip-vit-large-patch14), built from
    open_clip's BPE file; scripts/mini/ passes the merges it learns from its captions.
    """
    from transformers.models.clip.tokenization_clip import bytes_to_unicode
    if merges is None:
        package = importlib.util.find_spec("open_clip").submodule_search_locations[0]
        lines = gzip.open(pathlib.Path(package) / "bpe_simple_vocab_16e6.txt.gz").read().decode("utf-8").split("\n")
        merges = lines[1:1 + MERGE_COUNT]
        assert len(merges) == 48894
    assert all(len(m.split()) == 2 for m in merges)
    symbols = list(bytes_to_unicode().values())
    vocabulary = symbols + [s + "</w>" for s in symbols] + ["".join(m.split()) for m in merges]
    vocabulary += ["<|startoftext|>", "<|endoftext|>"]
    encoder = {token: index for index, token in enumerate(vocabulary)}
    assert len(encoder) == len(vocabulary) == 512 + len(merges) + 2
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(encoder, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    special = {name: dict(SPECIAL, content=content) for name, content in
               [("bos_token", "<|startoftext|>"), ("eos_token", "<|endoftext|>"), ("unk_token", "<|endoftext|>")]}
    (folder / "special_tokens_map.json").write_text(json.dumps(
        {**special, "pad_token": "<|endoftext|>"}, indent=2, sort_keys=True) + "\n")
    config = {"add_prefix_space": False, "do_lower_case": True, "errors": "replace", "model_max_length": MAX_LENGTH,
              "name_or_path": model_name, "pad_token": "<|endoftext|>",
              "special_tokens_map_file": "./special_tokens_map.json", "tokenizer_class": "CLIPTokenizer",
              **{name: dict(value, __type="AddedToken") for name, value in special.items()}}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def get_word_inds(text: str, word_place, tokenizer) -> tuple[list[int], bool]:
    """Auffusion prompt2prompt/ptp_utils.py `get_word_inds`, restated: the token positions (BOS = 0)
    of the words of `text.split(" ")` selected by `word_place` (an index or an exact word).

    Tokens are decoded one at a time (stripped of '#'); their lengths are added up until they
    reach the length of the current word, then the next word starts. Returns the positions and
    whether the reference raises IndexError (tokens left over after the last word); in that case
    the positions are those assigned before the error.
    """
    words = text.split(" ")
    selected = [i for i, w in enumerate(words) if w == word_place] if isinstance(word_place, str) else [word_place]
    positions = []
    if not selected:
        return positions, False
    pieces = [tokenizer.decode([token]).strip("#") for token in tokenizer.encode(text)][1:-1]
    length, word = 0, 0
    for index, piece in enumerate(pieces):
        length += len(piece)
        if word in selected:
            positions.append(index + 1)
        if word >= len(words):
            return positions, True
        if length >= len(words[word]):
            word, length = word + 1, 0
    return positions, False


def tokenizer_cases(folder: pathlib.Path) -> tuple[dict, list]:
    slow = CLIPTokenizer.from_pretrained(folder)
    fast = CLIPTokenizerFast.from_pretrained(folder)
    assert slow.fix_text is None, "ftfy is importable: the reference environment must not have it"
    assert slow.model_max_length == MAX_LENGTH and slow.pad_token_id == 49407 and slow.bos_token_id == 49406
    for text, ids in KNOWN:
        assert slow(text).input_ids == ids == fast(text).input_ids, text
    cases, differs = [], {}
    for caption in clip_captions.captions():
        text = caption["text"]
        ids = slow(text).input_ids
        padded = slow(text, padding="max_length", max_length=MAX_LENGTH, truncation=True).input_ids
        assert len(padded) == MAX_LENGTH
        case = {"family": caption["family"], "text": text, "ids": ids}
        if len(ids) > MAX_LENGTH:
            case["padded"] = padded
        else:  # the rule the Swift test applies where `padded` is absent
            assert padded == ids + [slow.pad_token_id] * (MAX_LENGTH - len(ids))
        fast_ids = fast(text).input_ids
        if fast_ids != ids:
            case["fast"] = fast_ids
            differs[caption["family"]] = differs.get(caption["family"], 0) + 1
        cases.append(case)
    word_cases, taken = [], {}
    for case in cases:
        family = case["family"]
        if taken.get(family, 0) >= WORD_INDEX_SAMPLE[family]:
            continue
        taken[family] = taken.get(family, 0) + 1
        words = case["text"].split(" ")
        results = [get_word_inds(case["text"], k, slow) for k in range(len(words))]
        raises = any(r[1] for r in results)
        query = words[min(1, len(words) - 1)]
        query_positions, _ = get_word_inds(case["text"], query, slow)
        word_cases.append({"text": case["text"], "words": [r[0] for r in results], "raises": raises,
                           "query": query, "query_positions": query_positions,
                           "decoded": slow.decode(case["ids"])})
    return {"known": [{"text": t, "ids": i} for t, i in KNOWN], "fast_differs": differs, "captions": cases}, word_cases


# ---------------------------------------------------------------------------------------------
# CLIPTextModel (spec 3.2) and ConditionAdapter (spec 3.3)
# ---------------------------------------------------------------------------------------------

def randomize(module: torch.nn.Module, seed: int) -> None:
    """Replaces every floating-point parameter with seeded noise (transformers' init leaves biases
    at 0 and norms at 1, which would not test their loading)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            noise = torch.randn(tensor.shape, generator=generator)
            if "norm" in name:
                tensor.copy_((1 + 0.1 * noise) if name.endswith("weight") else 0.1 * noise)
            elif "embedding" in name:
                tensor.copy_(0.5 * noise)
            elif name.endswith("bias"):
                tensor.copy_(0.1 * noise)
            else:
                tensor.copy_(noise / tensor.shape[-1] ** 0.5)


def token_rows(vocab_size: int, lengths: list[int], seed: int, pad: bool) -> list[list[int]]:
    """BOS (vocab − 2), random content ids, EOS (vocab − 1), then EOS padding to 77 when `pad`."""
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for length in lengths:
        content = torch.randint(0, vocab_size - 2, (length,), generator=generator).tolist()
        row = [vocab_size - 2] + content + [vocab_size - 1]
        rows.append(row + [vocab_size - 1] * (MAX_LENGTH - len(row)) if pad else row)
    return rows


def run(model: CLIPTextModel, rows: list[list[int]]) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor(rows)).last_hidden_state.numpy()


def write_text_models(out: pathlib.Path) -> tuple[list, np.ndarray]:
    """Both tiny text models in their published layouts; returns the manifest and the unpadded
    encoding of the first model (the adapter's input)."""
    manifest, unpadded = [], None
    for seed, (name, settings) in enumerate(TEXT_MODELS.items(), start=1):
        folder = out / name
        config = CLIPTextConfig(**settings)
        model = CLIPTextModel(config).eval()
        randomize(model, seed)
        config.save_pretrained(folder)
        state = model.state_dict()
        assert "text_model.embeddings.position_ids" in state
        torch.save(state, folder / "pytorch_model.bin")
        half = name == "text_gelu"
        tensors = {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in state.items()}
        save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
        rows = token_rows(config.vocab_size, [10, 40], seed, pad=True)
        reference = run(model, rows)
        np.save(folder / "output.npy", reference.astype("<f4"))
        checks = [{"weights": "pytorch_model.bin", "output": f"{name}/output.npy", "nmse": 1e-8}]
        # transformers itself must read both files back: the .bin and the safetensors (its default choice).
        assert np.array_equal(run(CLIPTextModel.from_pretrained(folder, use_safetensors=False), rows), reference)
        loaded = run(CLIPTextModel.from_pretrained(folder), rows)
        if half:
            np.save(folder / "output_fp16_weights.npy", loaded.astype("<f4"))
            checks.append({"weights": "model.safetensors", "output": f"{name}/output_fp16_weights.npy", "nmse": 1e-6})
        else:
            assert np.array_equal(loaded, reference)
            checks.append({"weights": "model.safetensors", "output": f"{name}/output.npy", "nmse": 1e-8})
        entry = {"folder": name, "inputs": rows, "checks": checks}
        if name == "text_quick_gelu":
            short = token_rows(config.vocab_size, [7], 11, pad=False)
            unpadded = run(model, short)
            np.save(folder / "output_unpadded.npy", unpadded.astype("<f4"))
            entry["unpadded"] = {"inputs": short, "output": f"{name}/output_unpadded.npy", "nmse": 1e-8}
        manifest.append(entry)
    return manifest, unpadded


def write_synthetic_clip_large(out: pathlib.Path) -> None:
    """The full-size text tower, weights from synthetic.py, on a real tokenized prompt (SD-style padding)."""
    prompt = "A dog barks twice in the distance, then a car passes by on a wet road."
    config = CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12)  # CLIP-L text
    model = CLIPTextModel(config).eval()
    fill_synthetic(model)
    tokenizer = CLIPTokenizer.from_pretrained(out / "tokenizer")
    ids = tokenizer(prompt, padding="max_length", max_length=MAX_LENGTH, truncation=True).input_ids
    np.save(out / "clip_large_synthetic.npy", run(model, [ids]).astype("<f4"))
    (out / "clip_large_synthetic.json").write_text(json.dumps(
        {"prompt": prompt, "ids": ids, "config": config.to_diff_dict(), "nmse": 1e-8}) + "\n")


class ConditionAdapter(torch.nn.Module):
    """Auffusion auffusion_pipeline.py `ConditionAdapter`, restated: LayerNorm(Linear(x))."""

    def __init__(self, config: dict):
        super().__init__()
        self.proj = torch.nn.Linear(config["condition_dim"], config["cross_attention_dim"])
        self.norm = torch.nn.LayerNorm(config["cross_attention_dim"])

    def forward(self, x):
        return self.norm(self.proj(x))


def write_adapter(out: pathlib.Path, encoding: np.ndarray) -> None:
    """The adapter folder, and its input: the unpadded encoding zero-padded to 77 rows, as
    AuffusionPipeline._encode_prompt feeds it."""
    folder = out / "condition_adapter_0"
    folder.mkdir()
    adapter = ConditionAdapter(ADAPTER_CONFIG).eval()
    randomize(adapter, 7)
    (folder / "config.json").write_text(json.dumps(ADAPTER_CONFIG, indent=4))
    torch.save(adapter.state_dict(), folder / "condition_adapter.pt")
    padded = np.zeros((1, MAX_LENGTH, encoding.shape[2]), dtype=np.float32)
    padded[:, :encoding.shape[1]] = encoding
    with torch.no_grad():
        output = adapter(torch.from_numpy(padded)).numpy()
    reloaded = ConditionAdapter(json.loads((folder / "config.json").read_text()))
    reloaded.load_state_dict(torch.load(folder / "condition_adapter.pt"))
    with torch.no_grad():
        assert np.array_equal(reloaded(torch.from_numpy(padded)).numpy(), output)
    np.save(out / "adapter_input.npy", padded.astype("<f4"))
    np.save(out / "adapter_output.npy", output.astype("<f4"))


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def generate(out_dir: pathlib.Path) -> None:
    """Writes every text-conditioning fixture into `out_dir` (Tests/Fixtures/clip/)."""
    out = pathlib.Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    logging.getLogger("transformers").setLevel(logging.ERROR)  # the >77-token warnings are expected
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: bit-identical reruns regardless of the machine
    try:
        write_tokenizer_files(out / "tokenizer")
        captions, word_cases = tokenizer_cases(out / "tokenizer")
        compact = {"separators": (",", ":"), "ensure_ascii": False}
        (out / "captions.json").write_text(json.dumps(captions, **compact) + "\n", encoding="utf-8")
        (out / "word_indices.json").write_text(json.dumps(word_cases, **compact) + "\n", encoding="utf-8")
        models, unpadded = write_text_models(out)
        (out / "text_models.json").write_text(json.dumps(models) + "\n")
        write_adapter(out, unpadded)
        write_synthetic_clip_large(out)
    finally:
        torch.set_num_threads(threads)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < 4_000_000, f"clip fixtures take {total} bytes"
    raising = sum(case["raises"] for case in word_cases)
    print(f"  {len(captions['captions'])} captions (fast tokenizer differs on {sum(captions['fast_differs'].values())}: "
          f"{captions['fast_differs']}), {len(word_cases)} word-index cases ({raising} raise in the reference), "
          f"{total} bytes")
