"""MoE-LoRA with a zero expert as a peft tuner (HMVLM, NeurIPS 2025).

Importing this package registers the method with peft under the name "moe_lora"
(peft_type "MOE_LORA"), so `get_peft_model(model, MoELoraConfig(...))`,
`save_pretrained` and `PeftModel.from_pretrained` work like for LoRA.
"""
from __future__ import annotations

from peft.mapping import PEFT_TYPE_TO_TUNER_MAPPING
from peft.utils import register_peft_method

from .config import MOE_LORA_PEFT_TYPE, PEFT_METHOD_NAME, MoELoraConfig, MoELoraConfigError
from .layer import ExpertLoopLinear, GateState, GateWeightsError, MoELoraLayer, MoELoraLinear, expert_loop_forward
from .model import MoELoraModel

# Guarded so a re-import (e.g. importlib.reload in a notebook) does not trip peft's duplicate check.
if MOE_LORA_PEFT_TYPE not in PEFT_TYPE_TO_TUNER_MAPPING:
    register_peft_method(name=PEFT_METHOD_NAME, config_cls=MoELoraConfig, model_cls=MoELoraModel)

__all__ = [
    "ExpertLoopLinear", "GateState", "GateWeightsError", "MOE_LORA_PEFT_TYPE", "MoELoraConfig",
    "MoELoraConfigError", "MoELoraLayer", "MoELoraLinear", "MoELoraModel", "expert_loop_forward",
]
