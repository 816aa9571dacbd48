"""MoE-LoRA layer: trainable experts concatenated so any expert count costs two small matmuls.

For a linear W and trainable experts e = 1..E_t (expert 0 is the parameter-free zero expert):
    y = W x + s * sum_e alpha_e B_e A_e x = W x + s * B_cat ((A_cat x) * g),
where A_cat = [A_1; ...; A_Et] is (E_t*r, in), B_cat = [B_1 ... B_Et] is (out, E_t*r) and g repeats
each alpha_e over its r-block (HMVLM eq. 3; routing is per sample, so g is per sample, not per token).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import nn

from peft.tuners.tuners_utils import BaseTunerLayer, check_adapters_to_merge

from .config import MoELoraConfig, MoELoraConfigError


class GateWeightsError(RuntimeError):
    """Gate weights are missing or do not fit the batch / expert count."""


class GateState:
    """Per-sample gate weights shared by every MoE-LoRA layer of one model instance.

    A plain object (not an nn.Module) so it never enters a state dict. The MoE-LoRA tuner owns
    one and hands it to each layer; `set(alpha)` once per batch is all the caller does.
    """

    def __init__(self) -> None:
        self.alpha: Optional[torch.Tensor] = None
        self._expanded: dict[tuple, torch.Tensor] = {}

    def set(self, alpha: Optional[torch.Tensor]) -> None:
        """alpha: (B, E) per-sample weights, or (E,) for one weight vector shared by the batch; None clears."""
        if alpha is not None:
            if not isinstance(alpha, torch.Tensor):
                alpha = torch.as_tensor(alpha, dtype=torch.float32)
            if alpha.ndim == 1:
                alpha = alpha.unsqueeze(0)
            if alpha.ndim != 2 or alpha.shape[0] == 0:
                raise GateWeightsError(f"gate weights must be (B, E) or (E,), got shape {tuple(alpha.shape)}")
        self.alpha = alpha
        self._expanded = {}

    def clear(self) -> None:
        self.set(None)

    def block_gate(
        self, num_experts: int, zero_expert: bool, r: int, scaling: float, dtype: torch.dtype, device: torch.device
    ) -> torch.Tensor:
        """(B, E_t*r) = scaling * alpha_trainable repeated over r-blocks; cached until the next `set`.

        Every layer with the same (E, r, scaling) shares one tensor, so autograd still sends each
        layer's gradient into the same alpha.
        """
        alpha = self.alpha
        if alpha is None:
            raise GateWeightsError(
                "MoE-LoRA gate weights are not set: call model.set_gate_weights(alpha) before the forward pass"
            )
        if alpha.shape[-1] != num_experts:
            raise GateWeightsError(f"gate weights have {alpha.shape[-1]} experts, the adapter has {num_experts}")
        key = (num_experts, zero_expert, r, scaling, dtype, device)
        cached = self._expanded.get(key)
        if cached is None:
            trainable = alpha[:, 1:] if zero_expert else alpha
            cached = (trainable.to(device=device, dtype=dtype) * scaling).repeat_interleave(r, dim=-1)
            self._expanded[key] = cached
        return cached


class MoELoraLayer(BaseTunerLayer):
    """Adapter state of a MoE-LoRA layer (peft tuner-layer mixin)."""

    adapter_layer_names = ("moe_lora_A", "moe_lora_B")
    other_param_names = ("r", "lora_alpha", "scaling", "num_experts", "zero_expert", "moe_lora_dropout")

    def __init__(self, base_layer: nn.Module, gate_state: GateState, **kwargs: Any) -> None:
        self.base_layer = base_layer
        self.r: dict[str, int] = {}
        self.lora_alpha: dict[str, float] = {}
        self.scaling: dict[str, float] = {}
        self.num_experts: dict[str, int] = {}
        self.zero_expert: dict[str, bool] = {}
        self.moe_lora_dropout = nn.ModuleDict({})
        self.moe_lora_A = nn.ParameterDict({})
        self.moe_lora_B = nn.ParameterDict({})
        self.gate_state = gate_state
        self._disable_adapters = False
        self.merged_adapters: list[str] = []
        # Copy of the base weight taken at merge time; unmerge copies it back (exact, no subtraction).
        self._unmerged_weight: Optional[torch.Tensor] = None
        self.kwargs = kwargs
        base = self.get_base_layer()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"MoE-LoRA supports nn.Linear only, got {type(base).__name__}")
        self.in_features, self.out_features = base.in_features, base.out_features

    def update_layer(self, adapter_name: str, config: MoELoraConfig) -> None:
        r, n_train = config.r, config.num_trainable_experts
        self.r[adapter_name] = r
        self.lora_alpha[adapter_name] = config.lora_alpha
        self.scaling[adapter_name] = config.scaling
        self.num_experts[adapter_name] = config.num_experts
        self.zero_expert[adapter_name] = config.zero_expert
        self.moe_lora_dropout[adapter_name] = nn.Dropout(config.lora_dropout) if config.lora_dropout > 0 else nn.Identity()
        self.moe_lora_A[adapter_name] = nn.Parameter(torch.empty(n_train * r, self.in_features))
        self.moe_lora_B[adapter_name] = nn.Parameter(torch.empty(self.out_features, n_train * r))
        self.reset_parameters(adapter_name, config.init_weights)
        self._move_adapter_to_device_of_base_layer(adapter_name)
        self.set_adapter(self.active_adapters, inference_mode=config.inference_mode)

    def reset_parameters(self, adapter_name: str, init_weights: bool = True) -> None:
        """LoRA init per expert: A kaiming-uniform (a=sqrt(5), as peft LoRA), B zero."""
        r = self.r[adapter_name]
        a, b = self.moe_lora_A[adapter_name], self.moe_lora_B[adapter_name]
        with torch.no_grad():
            # Initialise block by block so each expert's A has the fan-in scale of an r x in LoRA A.
            for blk in a.split(r, dim=0):
                nn.init.kaiming_uniform_(blk, a=math.sqrt(5))
            if init_weights:
                nn.init.zeros_(b)
            else:
                for blk in b.split(r, dim=1):
                    nn.init.kaiming_uniform_(blk, a=math.sqrt(5))

    def expert_weights(self, adapter_name: str = "default") -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(A_e (r, in), B_e (out, r)) views per trainable expert, in gate order after the zero expert."""
        r = self.r[adapter_name]
        a, b = self.moe_lora_A[adapter_name], self.moe_lora_B[adapter_name]
        return list(zip(a.split(r, dim=0), b.split(r, dim=1)))

    def get_delta_weight(self, adapter_name: str, alpha: torch.Tensor) -> torch.Tensor:
        """scaling * sum_e alpha_e B_e A_e for one gate vector alpha (E,), as one (out, in) matmul."""
        alpha = alpha.reshape(-1)
        if alpha.numel() != self.num_experts[adapter_name]:
            raise GateWeightsError(f"alpha has {alpha.numel()} experts, the adapter has {self.num_experts[adapter_name]}")
        a, b = self.moe_lora_A[adapter_name], self.moe_lora_B[adapter_name]
        trainable = alpha[1:] if self.zero_expert[adapter_name] else alpha
        g = (trainable.to(device=b.device, dtype=b.dtype) * self.scaling[adapter_name]).repeat_interleave(self.r[adapter_name])
        return (b * g) @ a


class MoELoraLinear(nn.Module, MoELoraLayer):
    """nn.Linear with a MoE-LoRA adapter (batched experts, zero expert, per-request merge)."""

    def __init__(
        self, base_layer: nn.Module, adapter_name: str, config: MoELoraConfig, gate_state: GateState, **kwargs: Any
    ) -> None:
        super().__init__()
        MoELoraLayer.__init__(self, base_layer, gate_state, **kwargs)
        self._active_adapter = adapter_name
        self.update_layer(adapter_name, config)

    # ---- forward -------------------------------------------------------------------------
    def _gate_for(self, adapter: str, x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        g = self.gate_state.block_gate(
            self.num_experts[adapter], self.zero_expert[adapter], self.r[adapter], self.scaling[adapter],
            dtype, x.device,
        )
        rows = g.shape[0]
        if x.ndim == 1:
            if rows != 1:
                raise GateWeightsError(f"gate weights have {rows} rows for an unbatched input")
            return g[0]
        if rows != 1 and rows != x.shape[0]:
            raise GateWeightsError(f"gate weights have {rows} rows, the batch has {x.shape[0]} samples")
        # Per sample, broadcast over all token positions.
        return g.view(rows, *([1] * (x.ndim - 2)), g.shape[-1])

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if self.merged_adapters and not self._disable_adapters:
            # Hot path of merged batch-1 decoding: skip the base module's call overhead when it
            # is a plain hook-free nn.Linear (the weight already holds the merged update).
            base = self.base_layer
            if type(base) is nn.Linear and not (base._forward_hooks or base._forward_pre_hooks):
                return F.linear(x, base.weight, base.bias)
            return base(x, *args, **kwargs)
        if self.disable_adapters:
            if self.merged:
                self.unmerge()
            return self.base_layer(x, *args, **kwargs)
        if self.merged:
            return self.base_layer(x, *args, **kwargs)
        result = self.base_layer(x, *args, **kwargs)
        for adapter in self.active_adapters:
            if adapter not in self.moe_lora_A:
                continue
            a, b = self.moe_lora_A[adapter], self.moe_lora_B[adapter]
            xa = self._cast_input_dtype(x, a.dtype)
            h = F.linear(self.moe_lora_dropout[adapter](xa), a)
            h = h * self._gate_for(adapter, x, a.dtype)
            # In place: nn.Linear's backward does not need its output, and this saves one pass.
            result = result.add_(F.linear(h, b).to(result.dtype))
        return result

    # ---- merge -------------------------------------------------------------------------
    def merge_for_request(
        self, alpha: torch.Tensor, adapter_names: Optional[list[str]] = None, safe_merge: bool = False
    ) -> None:
        """Fold W + scaling * sum_e alpha_e B_e A_e into the base weight, in place, for one request.

        A copy of the original weight is kept (a memcpy, cheaper than the merge matmul) and copied
        back by `unmerge`, so unmerging is exact. A previous merge is undone first, so consecutive
        requests never stack. `safe_merge` checks the result for inf/NaN (costs a full pass).
        """
        if self.merged:
            self.unmerge()
        adapter_names = check_adapters_to_merge(self, adapter_names)
        adapter_names = [a for a in adapter_names if a in self.moe_lora_A]
        if not adapter_names:
            return
        alpha = alpha.reshape(-1)
        for adapter in adapter_names:
            if alpha.numel() != self.num_experts[adapter]:
                raise GateWeightsError(f"alpha has {alpha.numel()} experts, the adapter has {self.num_experts[adapter]}")
        base = self.get_base_layer()
        with torch.no_grad():
            weight = base.weight.data
            self._unmerged_weight = weight.clone()
            for adapter in adapter_names:
                a, b = self.moe_lora_A[adapter], self.moe_lora_B[adapter]
                trainable = alpha[1:] if self.zero_expert[adapter] else alpha
                g = (trainable.to(device=b.device, dtype=b.dtype) * self.scaling[adapter]).repeat_interleave(self.r[adapter])
                weight.addmm_((b * g).to(weight.dtype), a.to(weight.dtype))
                self.merged_adapters.append(adapter)
            if safe_merge and not torch.isfinite(weight).all():
                self.unmerge()
                raise ValueError(f"non-finite merged weight for adapters {adapter_names}")

    def merge(self, safe_merge: bool = False, adapter_names: Optional[list[str]] = None) -> None:
        """peft merge: uses the gate weights currently set, which must be a single row."""
        alpha = self.gate_state.alpha
        if alpha is None or alpha.shape[0] != 1:
            raise GateWeightsError(
                "MoE-LoRA can only merge for one gate vector: set_gate_weights(alpha of shape (E,)) first"
            )
        self.merge_for_request(alpha[0], adapter_names, safe_merge=safe_merge)

    def unmerge(self) -> None:
        if not self.merged:
            warnings.warn("Already unmerged. Nothing to do.")
            return
        if self._unmerged_weight is not None:
            with torch.no_grad():
                self.get_base_layer().weight.data.copy_(self._unmerged_weight)
        self._unmerged_weight = None
        self.merged_adapters.clear()

    def __repr__(self) -> str:
        return "moe_lora." + super().__repr__()


class ExpertLoopLinear(nn.Module):
    """Reference MoE-LoRA with one (A_e, B_e) pair per expert and a Python loop over experts.

    Only for tests and benchmarks: it is the naive form the batched layer must equal and beat.
    """

    def __init__(self, layer: MoELoraLinear, adapter_name: str = "default") -> None:
        super().__init__()
        self.base_layer = layer.get_base_layer()
        self.gate_state = layer.gate_state
        self.zero_expert = layer.zero_expert[adapter_name]
        self.num_experts = layer.num_experts[adapter_name]
        self.scaling = layer.scaling[adapter_name]
        self.dropout = layer.moe_lora_dropout[adapter_name]
        experts = layer.expert_weights(adapter_name)
        self.A = nn.ParameterList([nn.Parameter(a.detach().clone().contiguous()) for a, _ in experts])
        self.B = nn.ParameterList([nn.Parameter(b.detach().clone().contiguous()) for _, b in experts])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        alpha = self.gate_state.alpha
        if alpha is None:
            raise GateWeightsError("gate weights are not set")
        result = self.base_layer(x)
        xd = self.dropout(x)
        offset = 1 if self.zero_expert else 0
        for e, (a, b) in enumerate(zip(self.A, self.B)):
            w = alpha[:, e + offset].to(x.dtype).view(alpha.shape[0], *([1] * (x.ndim - 1)))
            result = result + self.scaling * w * F.linear(F.linear(xd, a), b)
        return result


def expert_loop_forward(layer: MoELoraLinear, x: torch.Tensor, alpha: torch.Tensor, adapter_name: str = "default") -> torch.Tensor:
    """base(x) + scaling * sum_e alpha[:, e] B_e A_e x, looping over experts (tests only; no dropout)."""
    if alpha.ndim == 1:
        alpha = alpha.unsqueeze(0)
    offset = 1 if layer.zero_expert[adapter_name] else 0
    out = layer.get_base_layer()(x)
    for e, (a, b) in enumerate(layer.expert_weights(adapter_name)):
        w = alpha[:, e + offset].to(x.dtype).view(alpha.shape[0], *([1] * (x.ndim - 1)))
        out = out + layer.scaling[adapter_name] * w * (x @ a.T @ b.T)
    return out


__all__ = [
    "ExpertLoopLinear", "GateState", "GateWeightsError", "MoELoraConfigError", "MoELoraLayer", "MoELoraLinear",
    "expert_loop_forward",
]
