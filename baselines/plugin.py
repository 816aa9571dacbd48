"""The one place baseline models register. A new baseline: one module + one line here."""
from __future__ import annotations

from hmvlm_bench.registry import Registries


def register(regs: Registries) -> None:
    regs.models.register("ground-truth", "baselines.reference_rows:GroundTruthModel",
                         aliases=("real",), description="the dataset's own data: the ceiling row")
    regs.models.register("random", "baselines.reference_rows:RandomModel",
                         description="random training data: the floor row")
