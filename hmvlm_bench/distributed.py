"""Data-parallel evaluation on Hugging Face Accelerate (the engine lm-eval and peft users
already run), not a home-made launcher.

Under `accelerate launch` (or `torchrun`) each process evaluates its shard of every task
(`World.shard`), outputs are gathered in the original order (`World.gather`), metrics are
computed identically everywhere and only rank 0 writes. Per-request seeds come from sample
ids, so the numbers do not depend on the number of processes.

On a CPU-only machine `accelerate launch --multi_gpu --num_processes N --num_machines 1
--mixed_precision no --dynamo_backend no` starts N processes; they join a gloo group here
(Accelerate only picks MULTI_CPU when told `cpu=True`, else it silently runs each process
alone). Shared artifacts are built once under a file lock (`ArtifactStore.get_or_build`).
"""
from __future__ import annotations

import atexit
import logging
import os
import sys

from hmvlm_bench.context import World
from hmvlm_bench.errors import UserError


def launched_world_size() -> int:
    """Processes started by accelerate/torchrun (1 when run directly)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def init_world(quiet_workers: bool = True) -> World:
    """Join the process group Accelerate set up (gloo on CPU, nccl on GPU)."""
    if launched_world_size() <= 1:
        return World()
    import torch
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    if state.num_processes != launched_world_size():
        raise UserError(f"WORLD_SIZE={launched_world_size()} but Accelerate joined {state.num_processes} "
                        "process(es); launch with `accelerate launch --multi_gpu --num_processes N`")
    world = World(rank=state.process_index, size=state.num_processes)
    atexit.register(_destroy)  # torchrun/accelerate report a crash if the group is left open
    if quiet_workers and not world.is_main:
        silence_worker()
    return world


def setup_launched_process() -> None:
    """For commands whose group Accelerate creates later (training): silence worker ranks
    now and destroy the group at exit."""
    if launched_world_size() <= 1:
        return
    atexit.register(_destroy)
    if os.environ.get("RANK", "0") != "0":
        silence_worker()


def silence_worker() -> None:
    """Non-main ranks print nothing but errors: no stdout, no progress bars, no INFO logs."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # transformers' bars follow this flag
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["TORCH_CPP_LOG_LEVEL"] = "ERROR"  # read when torch loads (training imports it later)
    if "transformers" in sys.modules:
        from transformers.utils import logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    logging.getLogger().setLevel(logging.ERROR)
    logging.getLogger("hmvlm_bench").setLevel(logging.ERROR)
    import warnings

    warnings.simplefilter("ignore")
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def _destroy() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
