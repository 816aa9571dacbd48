"""The one place task plugins register. A new task: one module + one line here."""
from __future__ import annotations

from hmvlm_bench.registry import Registries


def register(regs: Registries) -> None:
    pass
