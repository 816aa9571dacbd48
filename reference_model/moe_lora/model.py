"""MoE-LoRA tuner: injects MoELoraLinear into every targeted nn.Linear and owns the gate state."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

import torch
from torch import nn

from peft.tuners.tuners_utils import BaseTuner, BaseTunerLayer
from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

from .config import MoELoraConfig
from .layer import GateState, MoELoraLayer, MoELoraLinear


class MoELoraModel(BaseTuner):
    """peft tuner for MoE-LoRA (HMVLM). Reached as `peft_model.base_model`; peft forwards
    unknown attributes, so `peft_model.set_gate_weights(alpha)` and
    `peft_model.merge_for_request(alpha)` work on the PeftModel directly.

    Gate weights live on this instance (a `GateState` shared by its layers), never globally, so
    two MoE-LoRA models in one process do not interfere.
    """

    prefix: str = "moe_lora_"
    tuner_layer_cls = MoELoraLayer
    # Used only when target_modules=None; the paper adapts all linears ("all-linear", the default).
    target_module_mapping = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

    def __init__(self, model: nn.Module, config, adapter_name: str = "default", **kwargs) -> None:
        # Must exist before BaseTuner.__init__ injects layers (it calls _create_and_replace).
        self.__dict__["gate_state"] = GateState()
        super().__init__(model, config, adapter_name, **kwargs)

    # ---- injection ------------------------------------------------------------------------
    def _create_and_replace(
        self, peft_config: MoELoraConfig, adapter_name: str, target: nn.Module, target_name: str,
        parent: nn.Module, current_key: str, **optional_kwargs,
    ) -> None:
        if current_key is None:
            raise ValueError("current_key must not be None")
        if isinstance(target, MoELoraLinear):
            target.update_layer(adapter_name, peft_config)
            return
        base = target.get_base_layer() if isinstance(target, BaseTunerLayer) else target
        if not isinstance(base, nn.Linear):
            raise TypeError(f"MoE-LoRA supports nn.Linear only; {current_key} is {type(base).__name__}")
        new_module = MoELoraLinear(target, adapter_name, peft_config, self.gate_state)
        if adapter_name not in self.active_adapters:
            new_module.requires_grad_(False)
        self._replace_module(parent, target_name, new_module, target)

    def moe_lora_layers(self) -> Iterator[MoELoraLinear]:
        for module in self.model.modules():
            if isinstance(module, MoELoraLinear):
                yield module

    # ---- gate weights -----------------------------------------------------------------------
    def set_gate_weights(self, alpha: Optional[torch.Tensor]) -> None:
        """Set per-sample gate weights for the next forward passes.

        alpha: (B, num_experts) with row b the gate of sample b (column 0 = zero expert), or
        (num_experts,) shared by the whole batch; None clears. Keeps autograd: gradients of
        the LM loss flow back into alpha (and the gate MLP that produced it).
        """
        self.gate_state.set(alpha)

    def clear_gate_weights(self) -> None:
        self.gate_state.clear()

    @contextmanager
    def gate_weights(self, alpha: torch.Tensor) -> Iterator[None]:
        """`with model.gate_weights(alpha): model(...)` sets alpha for the block and clears it after."""
        self.gate_state.set(alpha)
        try:
            yield
        finally:
            self.gate_state.clear()

    # ---- per-request merge ----------------------------------------------------------------------
    def merge_for_request(self, alpha: torch.Tensor) -> None:
        """Fold one gate vector alpha (num_experts,) into every adapted weight (batch-1 serving).

        The gate state is set to alpha as well, so an unmerge falls back to the same outputs.
        """
        alpha = alpha.detach().reshape(-1)
        self.gate_state.set(alpha)
        for layer in self.moe_lora_layers():
            layer.merge_for_request(alpha)

    def unmerge_request(self) -> None:
        """Restore every adapted base weight exactly (the original tensors are put back)."""
        for layer in self.moe_lora_layers():
            if layer.merged:
                layer.unmerge()

    @contextmanager
    def merged_for_request(self, alpha: torch.Tensor) -> Iterator[None]:
        self.merge_for_request(alpha)
        try:
            yield
        finally:
            self.unmerge_request()
