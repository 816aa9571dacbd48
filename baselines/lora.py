"""Baseline: plain peft LoRA (r = 8, all linear modules), no gate, no zero expert.

The delta over HMVLM is `adapter="lora"` (reference_model.hmvlm.config.VARIANT_DELTAS).
"""
from __future__ import annotations

from typing import ClassVar

from reference_model.hmvlm.model import HMVLMModel


class LoRAModel(HMVLMModel):
    name: ClassVar[str] = "lora"
    variant: ClassVar[str] = "lora"
