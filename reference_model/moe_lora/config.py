"""Configuration of the MoE-LoRA tuner (HMVLM, NeurIPS 2025, Sec. 3.2) as a peft config."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Union

from peft.config import PeftConfig
from peft.utils.peft_types import PeftType

from hmvlm_bench.errors import UserError

PEFT_METHOD_NAME = "moe_lora"
PEFT_TYPE_NAME = PEFT_METHOD_NAME.upper()


class MoELoraConfigError(UserError, ValueError):
    """Invalid MoE-LoRA setting; a ValueError too, as peft callers expect from config checks."""


def ensure_peft_type() -> PeftType:
    """Add MOE_LORA to peft's closed `PeftType` enum (idempotent) and return the member.

    peft 0.21.2's `register_peft_method` requires the name to be a `PeftType` member, and that
    enum has no extension hook, so the member is added the way `enum` itself stores members.
    """
    existing = PeftType._member_map_.get(PEFT_TYPE_NAME)
    if existing is not None:
        return existing  # type: ignore[return-value]
    member = str.__new__(PeftType, PEFT_TYPE_NAME)
    member._name_ = PEFT_TYPE_NAME
    member._value_ = PEFT_TYPE_NAME
    type.__setattr__(PeftType, PEFT_TYPE_NAME, member)
    PeftType._member_map_[PEFT_TYPE_NAME] = member
    PeftType._value2member_map_[PEFT_TYPE_NAME] = member
    PeftType._member_names_.append(PEFT_TYPE_NAME)
    assert isinstance(member, enum.Enum)
    return member


MOE_LORA_PEFT_TYPE = ensure_peft_type()


@dataclass
class MoELoraConfig(PeftConfig):
    """MoE-LoRA: `num_experts` rank-`r` LoRA experts mixed by per-sample gate weights.

    W' = W + (lora_alpha / r) * sum_i alpha_i B_i A_i (HMVLM eq. 3), with alpha given per sample
    by the prompt gate. With `zero_expert`, expert 0 is the zero expert (A0 = B0 = 0, no
    parameters), so a gate that puts all weight on it leaves the base model unchanged.
    """

    num_experts: int = field(
        default=5,
        metadata={"help": "Total number of experts, counting the zero expert when `zero_expert` is set "
                  "(HMVLM uses 5: the zero expert and 4 trainable experts)."},
    )
    r: int = field(default=8, metadata={"help": "Rank of every trainable expert (HMVLM uses 8)."})
    lora_alpha: float = field(
        default=8.0, metadata={"help": "LoRA alpha; each expert's update is scaled by lora_alpha / r."}
    )
    lora_dropout: float = field(
        default=0.0,
        metadata={"help": "Dropout on the adapter input, one mask shared by all experts of a layer."},
    )
    target_modules: Optional[Union[list[str], str]] = field(
        default="all-linear",
        metadata={"help": "Modules to adapt: a list of names (exact or suffix match), a regex string, or "
                  "'all-linear' (every nn.Linear except the output head, as in HMVLM)."},
    )
    exclude_modules: Optional[Union[list[str], str]] = field(
        default=None, metadata={"help": "Modules not to adapt: a list of names or a regex string."}
    )
    zero_expert: bool = field(
        default=True,
        metadata={"help": "Make expert 0 the parameter-free zero expert (HMVLM); gate column 0 then "
                  "selects the unchanged base model."},
    )
    init_weights: bool = field(
        default=True,
        metadata={"help": "True: A kaiming-uniform and B zero, so the adapter starts as the identity "
                  "(as LoRA). False: B random too (tests only)."},
    )
    layers_to_transform: Optional[Union[list[int], int]] = field(
        default=None, metadata={"help": "Only adapt these layer indices (needs a list-valued target_modules)."}
    )
    layers_pattern: Optional[Union[list[str], str]] = field(
        default=None, metadata={"help": "Name of the nn.ModuleList holding the layers, used with layers_to_transform."}
    )
    modules_to_save: Optional[list[str]] = field(
        default=None,
        metadata={"help": "Other modules to train fully and save with the adapter (e.g. resized embeddings)."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.peft_type = MOE_LORA_PEFT_TYPE
        if isinstance(self.num_experts, bool) or not isinstance(self.num_experts, int):
            raise MoELoraConfigError(f"num_experts must be an int, got {self.num_experts!r}")
        min_experts = 2 if self.zero_expert else 1
        if self.num_experts < min_experts:
            raise MoELoraConfigError(
                f"num_experts={self.num_experts} leaves no trainable expert; need >= {min_experts} "
                f"(zero_expert={self.zero_expert})"
            )
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r <= 0:
            raise MoELoraConfigError(f"r must be a positive int, got {self.r!r}")
        if not self.lora_alpha > 0:
            raise MoELoraConfigError(f"lora_alpha must be > 0, got {self.lora_alpha!r}")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise MoELoraConfigError(f"lora_dropout must be in [0, 1), got {self.lora_dropout!r}")
        if isinstance(self.target_modules, list):
            self.target_modules = set(self.target_modules)
        if isinstance(self.exclude_modules, list):
            self.exclude_modules = set(self.exclude_modules)
        if isinstance(self.target_modules, str) and self.layers_to_transform is not None:
            raise MoELoraConfigError("layers_to_transform needs target_modules as a list, not a regex string")
        if self.layers_pattern and self.layers_to_transform is None:
            raise MoELoraConfigError("layers_pattern is set but layers_to_transform is not")

    @property
    def num_trainable_experts(self) -> int:
        """Experts that own parameters: num_experts minus the zero expert."""
        return self.num_experts - 1 if self.zero_expert else self.num_experts

    @property
    def scaling(self) -> float:
        return self.lora_alpha / self.r
