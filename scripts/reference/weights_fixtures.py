"""Golden fixtures for the weight readers (Sources/Weights): files written by real torch.save and
safetensors, hostile pickles that must be refused, and the expected value of every tensor.

Run through the dispatcher, never by hand:

    python scripts/reference/generate.py weights_fixtures     # writes Tests/Fixtures/weights/

Files written (all small; the folder stays well under 1 MB):
    plain.pt                nn.Module.state_dict(): an OrderedDict with `_metadata` (pickle BUILD)
    dtypes.pt               float32/float16/bfloat16/float64/int64/int32/int16/int8/uint8/bool, a 0-d and an empty tensor
    views.pt                non-contiguous views sharing one storage: transpose, slices, steps, expand (stride 0)
    nested.pt               {"generator": state_dict, "epoch": 3, "steps": ..., "optim": Adam state, "config": {...}}
    ambiguous.pt            {"generator": sd, "discriminator": sd}: two candidate state dicts
    parameters.pt           a dict of nn.Parameter (pickle `_rebuild_parameter`)
    protocol4.pt            torch.save(pickle_protocol=4): FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL
    legacy.pt               views + dtypes with _use_new_zipfile_serialization=False (the non-zip format)
    legacy_plain.pt         plain.pt's state dict in the legacy format
    zip64.pt                plain.pt's records re-packed with ZIP64 records (as multi-GB checkpoints use)
    deflated.pt             plain.pt's records deflate-compressed (torch never writes this; must be refused)
    not_a_state_dict.pt     torch.save([1, 2, 3])
    mixed.safetensors       F32/F16/BF16/I64 tensors + __metadata__
    shard-0000{1,2}-of-00002.safetensors + shards.safetensors.index.json   a sharded checkpoint
    malicious_*.pt          pickles that would run `touch <marker>` (or need a non-tensor global);
                            built by hand and zipped in torch's layout, never loaded here
    expected/<stem>/<key>.npy   float32, C order: the contiguous value of every tensor
    manifest.json           per file: format, key path, keys in order, shape/dtype/expected file of
                            each tensor, root values; per malicious file: the global or opcode the
                            Swift reader must name; the marker path
"""
import collections
import io
import json
import os
import pathlib
import pickle
import shutil
import struct
import warnings
import zipfile
import zlib

import numpy as np
import torch
from safetensors.torch import save_file

MARKER = "/tmp/auffusion-weights-fixture-pwned"
SCALAR_NAMES = {
    torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float64: "float64",
    torch.int64: "int64", torch.int32: "int32", torch.int16: "int16", torch.int8: "int8",
    torch.uint8: "uint8", torch.bool: "bool",
}


class TinyModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3, 4)
        self.norm = torch.nn.LayerNorm(4)
        self.conv = torch.nn.Conv1d(4, 2, kernel_size=3)
        self.register_buffer("position_ids", torch.arange(5).unsqueeze(0))


def tiny_state_dict(seed: int) -> "collections.OrderedDict[str, torch.Tensor]":
    torch.manual_seed(seed)
    return TinyModel().state_dict()


def dtype_tensors() -> dict:
    g = torch.Generator().manual_seed(1)
    base = torch.randn(2, 3, generator=g) * 3
    return {
        "f32": base.clone(),
        "f16": base.to(torch.float16),
        "bf16": base.to(torch.bfloat16),
        "f64": base.to(torch.float64),
        "i64": torch.tensor([[0, 1, -2, 3, 2**40]], dtype=torch.int64),
        "i32": torch.tensor([-7, 0, 7], dtype=torch.int32),
        "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
        "f16_special": torch.tensor([65504.0, -0.0, 6e-8, float("inf")], dtype=torch.float16),
    }


def view_tensors() -> dict:
    base = torch.arange(48, dtype=torch.float32).reshape(6, 8)
    half = torch.arange(24, dtype=torch.float16).reshape(4, 6)
    return {
        "base": base,
        "transposed": base.t(),
        "slice": base[1:4, 2:7],
        "column": base[:, 5],
        "strided": base[::2, 1::3],
        "permuted": base.reshape(2, 3, 8).permute(2, 0, 1),
        "expanded": base[0:1, 0:3].expand(4, 3),
        "half_transposed": half.t(),
        "half_slice": half[2:, 1:5],
        "offset_row": base[5],
    }


def nested_checkpoint() -> dict:
    torch.manual_seed(2)
    model = TinyModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.8, 0.99))
    model.proj(torch.randn(2, 3)).sum().backward()
    optimizer.step()
    return {
        "generator": model.state_dict(),
        "epoch": 3,
        "steps": 2500000,
        "optim": optimizer.state_dict(),
        "config": {"lr": 0.0002, "name": "hifigan", "betas": (0.8, 0.99), "flags": [True, None], "big": 2**70},
    }


# MARK: - Writers of files torch never writes itself

def torch_like_zip(path: pathlib.Path, pickle_bytes: bytes, storages: dict | None = None) -> None:
    """A zip in torch.save's layout (<stem>/data.pkl, <stem>/data/<key>, <stem>/version), stored."""
    stem = path.stem
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{stem}/data.pkl", pickle_bytes)
        for key, data in (storages or {}).items():
            archive.writestr(f"{stem}/data/{key}", data)
        archive.writestr(f"{stem}/version", "3\n")


def zip64_copy(source: pathlib.Path, target: pathlib.Path) -> None:
    """Re-packs a zip with ZIP64 sizes and offsets everywhere (APPNOTE 4.3.14, 4.3.15, 4.5.3)."""
    with zipfile.ZipFile(source) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    out, central = bytearray(), bytearray()
    for name, data in entries:
        encoded, crc, offset = name.encode(), zlib.crc32(data), len(out)
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(encoded), len(local_extra)) + encoded + local_extra + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF,
                               0xFFFFFFFF, len(encoded), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + encoded + extra
    directory_offset = len(out)
    out += central
    record_offset = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries), len(central),
                       directory_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, record_offset, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    target.write_bytes(bytes(out))


def deflated_copy(source: pathlib.Path, target: pathlib.Path) -> None:
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as output:
        for info in archive.infolist():
            output.writestr(info.filename, archive.read(info))


class RunsShell:
    """Pickles as a call to os.system (module `posix` on Linux). Only ever pickled, never loaded."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class RunsEval:
    def __reduce__(self):
        return (eval, (f"__import__('os').system('touch {MARKER}')",))


def legacy_stream(obj_pickle: bytes) -> bytes:
    """The five-pickle prefix of torch's legacy format around a hand-made object pickle."""
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
            + pickle.dumps(sys_info, protocol=2) + obj_pickle + pickle.dumps([], protocol=2))


def write_malicious(out: pathlib.Path) -> dict:
    """Files whose pickle names a global or opcode outside the allow-list, and what to expect."""
    tensor_first = io.BytesIO()
    torch.save({"weight": torch.ones(2)}, tensor_first)
    with zipfile.ZipFile(tensor_first) as archive:
        storage = archive.read("archive/data/0")
    # A genuine tensor first, then the payload, so the refusal happens mid-way through the pickle.
    system = pickle.dumps(collections.OrderedDict(weight=RunsShell()), protocol=2)
    torch_like_zip(out / "malicious_system.pt", system, {"0": storage})
    torch_like_zip(out / "malicious_stack_global.pt", pickle.dumps({"weight": RunsEval()}, protocol=4))
    inst = b"\x80\x02(X" + struct.pack("<I", len(f"touch {MARKER}")) + f"touch {MARKER}".encode() + b"ios\nsystem\n."
    torch_like_zip(out / "malicious_inst.pt", inst)
    (out / "malicious_legacy.pt").write_bytes(legacy_stream(pickle.dumps({"weight": RunsShell()}, protocol=2)))
    numpy_value = io.BytesIO()
    pickle.dump({"weight": np.zeros(3, dtype=np.float32)}, numpy_value, protocol=2)
    torch_like_zip(out / "malicious_numpy.pt", numpy_value.getvalue())
    return {
        "malicious_system.pt": {"global": ["posix", "system"]},
        "malicious_stack_global.pt": {"global": ["builtins", "eval"]},
        "malicious_inst.pt": {"opcode": "INST"},
        "malicious_legacy.pt": {"global": ["posix", "system"]},
        "malicious_numpy.pt": {"global": ["numpy.core.multiarray", "_reconstruct"]},
    }


# MARK: - Manifest and expected values

def describe(out: pathlib.Path, name: str, fmt: str, tensors: dict, key_path: list | None = None,
             root_values: dict | None = None) -> dict:
    stem = name.split(".")[0]
    folder = out / "expected" / stem
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"format": fmt, "keyPath": key_path or [], "keys": list(tensors.keys()), "tensors": {}}
    for key, tensor in tensors.items():
        expected = tensor.detach().contiguous().to(torch.float32).numpy()
        np.save(folder / f"{key}.npy", np.ascontiguousarray(expected, dtype="<f4"))
        entry["tensors"][key] = {"shape": list(tensor.shape), "dtype": SCALAR_NAMES[tensor.dtype],
                                 "expected": f"expected/{stem}/{key}.npy"}
    if root_values:
        entry["rootValues"] = root_values
    return entry


def check_round_trip(path: pathlib.Path, tensors: dict, key_path: list | None = None) -> None:
    """Our fixtures must load in torch itself (weights_only: they contain nothing else)."""
    loaded = torch.load(path, weights_only=True)
    for key in key_path or []:
        loaded = loaded[key]
    assert list(loaded.keys()) == list(tensors.keys()), path
    for key, tensor in tensors.items():
        assert torch.equal(loaded[key], tensor) and loaded[key].stride() == tensor.stride(), (path, key)


def generate(out_dir: pathlib.Path) -> None:
    warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
    out = pathlib.Path(out_dir)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = {}

    plain = tiny_state_dict(0)
    torch.save(plain, out / "plain.pt")
    check_round_trip(out / "plain.pt", plain)
    files["plain.pt"] = describe(out, "plain.pt", "torch", plain)

    dtypes = dtype_tensors()
    torch.save(dtypes, out / "dtypes.pt")
    check_round_trip(out / "dtypes.pt", dtypes)
    files["dtypes.pt"] = describe(out, "dtypes.pt", "torch", dtypes)

    views = view_tensors()
    torch.save(views, out / "views.pt")
    check_round_trip(out / "views.pt", views)
    files["views.pt"] = describe(out, "views.pt", "torch", views)

    nested = nested_checkpoint()
    torch.save(nested, out / "nested.pt")
    check_round_trip(out / "nested.pt", nested["generator"], ["generator"])
    files["nested.pt"] = describe(out, "nested.pt", "torch", nested["generator"], ["generator"],
                                  {"epoch": 3, "steps": 2500000, "config.name": "hifigan", "config.lr": 0.0002})

    ambiguous = {"generator": tiny_state_dict(3), "discriminator": tiny_state_dict(4)}
    torch.save(ambiguous, out / "ambiguous.pt")
    files["ambiguous.pt"] = describe(out, "ambiguous.pt", "torch", ambiguous["discriminator"], ["discriminator"])
    files["ambiguous.pt"]["candidates"] = [["generator"], ["discriminator"]]

    torch.manual_seed(5)
    parameters = {"weight": torch.nn.Parameter(torch.randn(3, 2)), "bias": torch.nn.Parameter(torch.randn(3))}
    torch.save(parameters, out / "parameters.pt")
    files["parameters.pt"] = describe(out, "parameters.pt", "torch", parameters)

    protocol4 = dict(tiny_state_dict(6))
    torch.save(protocol4, out / "protocol4.pt", pickle_protocol=4)
    files["protocol4.pt"] = describe(out, "protocol4.pt", "torch", protocol4)

    legacy = {**views, **dtypes}
    torch.save(legacy, out / "legacy.pt", _use_new_zipfile_serialization=False)
    check_round_trip(out / "legacy.pt", legacy)
    files["legacy.pt"] = describe(out, "legacy.pt", "torch-legacy", legacy)
    torch.save(plain, out / "legacy_plain.pt", _use_new_zipfile_serialization=False)
    files["legacy_plain.pt"] = describe(out, "legacy_plain.pt", "torch-legacy", plain)

    zip64_copy(out / "plain.pt", out / "zip64.pt")
    with zipfile.ZipFile(out / "zip64.pt") as archive:
        assert archive.testzip() is None
    try:
        check_round_trip(out / "zip64.pt", plain)
    except RuntimeError as error:  # PyTorch's reader may not accept every ZIP64 variant; zipfile does.
        print(f"  note: torch.load cannot read zip64.pt ({error}); checked with zipfile only")
    files["zip64.pt"] = describe(out, "zip64.pt", "torch", plain)
    deflated_copy(out / "plain.pt", out / "deflated.pt")
    torch.save([1, 2, 3], out / "not_a_state_dict.pt")

    mixed = {"f32": dtypes["f32"], "f16": dtypes["f16"], "bf16": dtypes["bf16"], "i64": dtypes["i64"],
             "scalar": dtypes["scalar"], "empty": dtypes["empty"], "matrix": views["base"].clone()}
    save_file(mixed, str(out / "mixed.safetensors"), metadata={"format": "pt", "note": "weights fixture"})
    files["mixed.safetensors"] = describe(out, "mixed.safetensors", "safetensors", mixed)
    files["mixed.safetensors"]["metadata"] = {"format": "pt", "note": "weights fixture"}

    shards = [dict(list(plain.items())[:3]), dict(list(plain.items())[3:])]
    weight_map = {}
    for index, shard in enumerate(shards, start=1):
        shard_name = f"shard-{index:05d}-of-00002.safetensors"
        save_file({k: v.contiguous() for k, v in shard.items()}, str(out / shard_name))
        weight_map.update({key: shard_name for key in shard})
    (out / "shards.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": sum(t.numel() * t.element_size() for t in plain.values())},
         "weight_map": weight_map}, indent=2) + "\n")
    files["shards.safetensors.index.json"] = describe(out, "shards.safetensors.index.json", "shards", plain)

    manifest = {
        "note": "GENERATED by scripts/reference/weights_fixtures.py — DO NOT EDIT",
        "marker": MARKER,
        "files": files,
        "malicious": write_malicious(out),
        "invalid": {"deflated.pt": "unsupportedFormat", "not_a_state_dict.pt": "stateDictNotFound"},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total < 1_000_000, f"weights fixtures take {total} bytes"
    assert not os.path.exists(MARKER), "a malicious fixture ran"
    print(f"  {len(files)} valid files, {len(manifest['malicious'])} malicious, {total} bytes")
