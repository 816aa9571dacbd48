"""Deterministic seeds. Per-sample seeds derive from (base seed, sample id), never from
the order of work, so sharding or batching cannot change results."""
from __future__ import annotations

import hashlib
import random


def derive_seed(base: int, *keys: object) -> int:
    blob = ":".join([str(base), *map(str, keys)]).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "little")


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
