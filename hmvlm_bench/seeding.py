"""Deterministic seeds. Per-sample seeds derive from (base seed, sample id), never from
the order of work, so sharding or batching cannot change results."""
from __future__ import annotations

import contextvars
import hashlib
import random
from contextlib import contextmanager
from typing import Any, Iterator


def derive_seed(base: int, *keys: object) -> int:
    blob = ":".join([str(base), *map(str, keys)]).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little")


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)



_OUTER_THREADS: "contextvars.ContextVar[int | None]" = contextvars.ContextVar("hmvlm_outer_threads", default=None)


@contextmanager
def single_thread() -> Iterator[None]:
    """Run a block with one intra-op thread (torch and, when threadpoolctl is present, BLAS).

    Float reductions split over threads add in a thread-count-dependent order, so metric
    inputs (evaluator embeddings, covariances, BERTScore) would differ in the last bits
    between a single-process run and `accelerate launch --num_processes N` (which gives
    each rank fewer threads). The runner evaluates every task inside this block; model
    calls get their threads back through `model_threads`.
    """
    import torch

    outer = torch.get_num_threads()
    token = _OUTER_THREADS.set(_OUTER_THREADS.get() or outer)
    torch.set_num_threads(1)
    pool = _blas_limit(1)
    try:
        yield
    finally:
        if pool is not None:
            pool.restore_original_limits()
        torch.set_num_threads(outer)
        _OUTER_THREADS.reset(token)


@contextmanager
def model_threads() -> Iterator[None]:
    """Inside `single_thread`: give a model call the threads the process had outside."""
    import torch

    outer = _OUTER_THREADS.get()
    if outer is None:
        yield
        return
    inner = torch.get_num_threads()
    torch.set_num_threads(outer)
    pool = _blas_limit(outer)
    try:
        yield
    finally:
        if pool is not None:
            pool.restore_original_limits()
        torch.set_num_threads(inner)


def _blas_limit(n: int) -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: numpy's BLAS then keeps its own thread count
        return None
    return threadpool_limits(limits=n)
