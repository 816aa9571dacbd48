"""The one place baseline models register. A new baseline: one module + one line here.

HMVLM-shaped baselines (lora, full-ft, whole-body, no-zero, ...) are config deltas: one
`Variant` entry each in reference_model/hmvlm/variants.py, registered from there."""
from __future__ import annotations

from hmvlm_bench.registry import Registries


def register(regs: Registries) -> None:
    regs.models.register("ground-truth", "baselines.reference_rows:GroundTruthModel",
                         aliases=("real",), description="the dataset's own data: the ceiling row")
    regs.models.register("random", "baselines.reference_rows:RandomModel",
                         description="random training data: the floor row")
    regs.models.register("base-llm", "baselines.base_llm:BaseLLM",
                         description="the preset's base LLM, untouched (forgetting reference)")
