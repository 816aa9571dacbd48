"""Data-parallel evaluation on Hugging Face Accelerate (the engine lm-eval and peft users
already run), not a home-made launcher.

Under `accelerate launch` (or `torchrun`) each process evaluates its shard of every task
(`World.shard`), outputs are gathered in the original order (`World.gather`), metrics are
computed identically everywhere and only rank 0 writes. Per-request seeds come from sample
ids, so the numbers do not depend on the number of processes.
"""
from __future__ import annotations

import atexit
import os

from hmvlm_bench.context import World


def launched_world_size() -> int:
    """Processes started by accelerate/torchrun (1 when run directly)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def init_world() -> World:
    """Join the process group Accelerate set up (gloo on CPU, nccl on GPU)."""
    if launched_world_size() <= 1:
        return World()
    from accelerate import PartialState

    state = PartialState()
    world = World(rank=state.process_index, size=state.num_processes)
    atexit.register(_destroy)  # torchrun reports a crash if the group is left open
    return world


def _destroy() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
