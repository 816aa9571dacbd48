"""Registers the reference HMVLM model and its trainers with the harness."""
from __future__ import annotations

from hmvlm_bench.registry import Registries


def register(regs: Registries) -> None:
    pass
