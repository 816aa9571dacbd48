"""Where and how a training run computes: the `accelerate.Accelerator` (CPU processes over gloo,
FSDP2 on CPU when asked, bf16 autocast on GPUs) and the cast of frozen weights to the
precision chosen by `hmvlm_bench.precision`. (Split out of `training.py`, issue 16;
re-exported there.)"""
from __future__ import annotations

from typing import Any

import torch

from hmvlm_bench.errors import UserError


def cast_frozen_(model: torch.nn.Module, dtype: torch.dtype) -> int:
    """Cast the frozen (requires_grad=False) floating tensors to `dtype`, in place; trainable
    ones (adapters, new rows) keep float32 master weights. Returns how many were cast."""
    n = 0
    for p in model.parameters():
        if not p.requires_grad and p.is_floating_point() and p.dtype != dtype:
            p.data = p.data.to(dtype)
            n += 1
    return n


def make_accelerator() -> Any:
    """CPU: gloo when launched with several processes; GPU: bf16 autocast. Unused parameters
    are expected (image projector on batches without images), hence find_unused_parameters.

    An accelerate FSDP config (ACCELERATE_USE_FSDP=true) shards the model on GPUs. Accelerate
    1.15 ignores it for CPU processes and silently falls back to DDP; we switch its state to
    FSDP2 instead (torch's fully_shard runs on gloo), so the sharded path is the one that
    runs, and is tested, on CPU too."""
    import os

    from accelerate import Accelerator, DistributedDataParallelKwargs
    from accelerate.utils import DistributedType

    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    acc = Accelerator(cpu=not cuda, mixed_precision="bf16" if bf16 else "no",
                      kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])
    wants_fsdp = os.environ.get("ACCELERATE_USE_FSDP", "false").lower() == "true"
    if wants_fsdp and acc.distributed_type == DistributedType.MULTI_CPU:
        from accelerate import FullyShardedDataParallelPlugin

        plugin = FullyShardedDataParallelPlugin()  # reads the FSDP_* variables `accelerate launch` sets
        if plugin.fsdp_version != 2:
            raise UserError("FSDP on CPU processes needs `fsdp_version: 2` in the accelerate config")
        from accelerate import PartialState

        # both shared states: every later AcceleratorState() re-copies PartialState's fields
        PartialState().distributed_type = acc.state.distributed_type = DistributedType.FSDP
        acc.state.fsdp_plugin = plugin
    if wants_fsdp and acc.num_processes > 1 and acc.distributed_type != DistributedType.FSDP:
        raise UserError(f"the accelerate config asks for FSDP but Accelerate chose {acc.distributed_type.value}")
    return acc
