"""What the benchmarks need to know about this machine's CPU."""
import pathlib


def has_bfloat16_products() -> bool:
    """Whether /proc/cpuinfo lists a bfloat16 dot-product extension (avx512_bf16 or amx_bf16).

    Without one, Swift's `--products bfloat16` runs float32 products (the same run as the exact
    one) and PyTorch's bf16 autocast emulates bfloat16 at a fraction of its fp32 speed, so the
    benchmarks leave both sides out. Linux only; False elsewhere.
    """
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
