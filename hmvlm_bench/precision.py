"""Which floating-point precision a device runs fast: one decision, recorded where it is used.

bf16 pays only where the hardware multiplies bf16 natively: CUDA GPUs with bf16 support
and CPUs with AMX-BF16 or AVX512-BF16. Elsewhere torch emulates bf16 matmuls and they run
far slower than fp32 (measured on an AVX2-only AMD EPYC, torch 2.13, 1 thread,
(384x576)@(576x1536): fp32 54 GFLOPS, bf16 1.2 GFLOPS), so `auto` picks fp32 there.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from hmvlm_bench.errors import UserError

PRECISIONS = ("auto", "float32", "bfloat16")
NATIVE_BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of this machine (empty where /proc/cpuinfo is absent)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def native_bf16(device: str | torch.device) -> bool:
    """True where bf16 matmuls run in hardware on `device`."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if dev.type == "cpu":
        return any(f in cpu_flags() for f in NATIVE_BF16_CPU_FLAGS)
    return False


@dataclass(frozen=True)
class PrecisionChoice:
    """The resolved precision and why (goes into a checkpoint's provenance)."""

    requested: str
    dtype: torch.dtype
    reason: str

    @property
    def name(self) -> str:
        return str(self.dtype).replace("torch.", "")

    def to_dict(self) -> dict[str, str]:
        return {"requested": self.requested, "dtype": self.name, "reason": self.reason}


def resolve_precision(requested: str, device: str | torch.device) -> PrecisionChoice:
    """`auto` -> bf16 where native on `device`, else fp32; explicit values are kept."""
    if requested not in PRECISIONS:
        raise UserError(f"unknown precision '{requested}' (known: {', '.join(PRECISIONS)})")
    native = native_bf16(device)
    if requested == "auto":
        if native:
            return PrecisionChoice(requested, torch.bfloat16, f"native bf16 on {torch.device(device).type}")
        return PrecisionChoice(requested, torch.float32,
                               f"no native bf16 on {torch.device(device).type} (bf16 would be emulated)")
    dtype = torch.bfloat16 if requested == "bfloat16" else torch.float32
    note = "" if requested == "float32" or native else " (emulated on this device: slow)"
    return PrecisionChoice(requested, dtype, f"requested{note}")


__all__ = ["NATIVE_BF16_CPU_FLAGS", "PRECISIONS", "PrecisionChoice", "cpu_flags", "native_bf16",
           "resolve_precision"]
