"""Baseline: full fine-tune of the base LLM (every weight trains; no adapter, no gate).

The delta over HMVLM is `adapter="full"`. Checkpoints hold the whole LLM (too large to ship).
"""
from __future__ import annotations

from typing import ClassVar

from reference_model.hmvlm.model import HMVLMModel


class FullFTModel(HMVLMModel):
    name: ClassVar[str] = "full-ft"
    variant: ClassVar[str] = "full-ft"
