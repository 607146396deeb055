#!/usr/bin/env python3
"""Lets PyPI's Linux torch wheel import on a CPU-only machine without its nvidia-* wheels.

    python scripts/reference/torch_cpu_stubs.py VENV/lib/python3.X/site-packages/torch/lib

PyPI's Linux wheel of torch is built with CUDA: its libraries name CUDA's (libcudart.so.13,
libcublas.so.13, …) as needed libraries, and pip would pull some 3 GB of nvidia-* wheels to
provide them. The CPU code paths never call them. This writes, beside torch's own libraries
(where their RPATH `$ORIGIN` finds them), one stub library for every needed library that is
neither present nor installed on the system: it carries the symbol versions torch's libraries
ask for and every symbol they import from it, each function returning 0 and each data object a
zeroed block. `torch.cuda.is_available()` is then False and the CPU kernels (MKL, oneDNN) run
as in the CPU wheel. `make .venv-torch-current/.installed` runs this after `pip install --no-deps torch`.
"""
import collections
import pathlib
import re
import subprocess
import sys
import tempfile

SYSTEM_PREFIXES = ("libc.", "libm.", "libdl.", "libpthread.", "librt.", "libstdc++", "libgcc_s", "ld-linux")
# Libraries without symbol versions: their imports are recognised by name.
UNVERSIONED_PREFIXES = {"libcufile.so.0": ("cuFile",), "libcusparseLt.so.0": ("cusparseLt",),
                        "libnccl.so.2": ("nccl", "pnccl")}


def readelf(*arguments: str) -> str:
    return subprocess.run(["readelf", "-W", *arguments], capture_output=True, text=True, check=True).stdout


def main() -> None:
    lib = pathlib.Path(sys.argv[1])
    present = {path.name for path in lib.iterdir()}
    installed = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    versions = collections.defaultdict(set)     # soname -> symbol versions asked for
    imports = collections.defaultdict(dict)     # soname -> {symbol: ELF type}
    unversioned = {}
    for library in sorted(lib.glob("*.so*")):
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf("-d", str(library)))
        missing = [name for name in needed if name not in present and not name.startswith(SYSTEM_PREFIXES)
                   and name not in installed]
        for name in missing:
            versions[name]
        current = None
        for line in readelf("-V", str(library)).splitlines():
            if match := re.search(r"File: (\S+)", line):
                current = match.group(1)
            elif (match := re.search(r"Name: (\S+)", line)) and current in missing:
                versions[current].add(match.group(1))
        for line in readelf("--dyn-syms", str(library)).splitlines():
            fields = line.split()
            if len(fields) < 8 or fields[6] != "UND" or fields[3] == "TLS":
                continue
            symbol, _, version = fields[7].partition("@")
            if not version:
                unversioned[symbol] = fields[3]
            for name in missing:
                if version in versions[name]:
                    imports[name][symbol] = fields[3]
    for soname, symbol_versions in versions.items():
        symbols = dict(imports[soname])
        for symbol, kind in unversioned.items():
            if symbol.startswith(UNVERSIONED_PREFIXES.get(soname, ("\0",))):
                symbols.setdefault(symbol, kind)
        with tempfile.TemporaryDirectory() as scratch:
            source, script = pathlib.Path(scratch, "stub.c"), pathlib.Path(scratch, "stub.map")
            source.write_text("".join(f"char {symbol}[256];\n" if kind == "OBJECT" else f"long {symbol}(void) {{ return 0; }}\n"
                                      for symbol, kind in sorted(symbols.items())))
            script.write_text("".join(f"{version} {{ global: *; }};\n" for version in sorted(symbol_versions))
                              or "{ global: *; };\n")
            subprocess.run(["cc", "-shared", "-fPIC", "-w", "-fno-builtin", "-o", str(lib / soname), str(source),
                            f"-Wl,-soname,{soname}", f"-Wl,--version-script,{script}"], check=True)
        print(f"stub {soname}: {len(symbols)} symbols")


if __name__ == "__main__":
    main()
