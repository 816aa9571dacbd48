"""The evaluator contract: a text encoder and a motion encoder into one shared space.

Tasks compute R-precision, MM-Dist, FID and Diversity on these embeddings and do not
care whether the evaluator is Guo et al.'s official one or our trained contrastive one.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np


class Evaluator(ABC):
    """Text/motion embedding model for text-to-motion metrics.

    Motions are HumanML3D-format features (T, D) normalised with the dataset's
    Mean.npy/Std.npy, with their true frame counts in `lengths`. Outputs keep the input
    order and are float64 numpy arrays (N, dim).
    """

    #: short name recorded in results ("guo-t2m", "contrastive-mini", ...)
    name: str
    #: embedding width
    dim: int
    #: feature width the motion encoder expects (263 HumanML3D, 251 KIT)
    feature_dim: int

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """sha256 of the weights (and config): results record it as the evaluator hash."""

    @abstractmethod
    def encode_text(self, captions: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """Embed captions; `tokens` are HumanML3D 'word/POS' lists where an evaluator needs them."""

    @abstractmethod
    def encode_motion(self, motions: Sequence[np.ndarray] | np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        """Embed normalised motions; motions[i][:lengths[i]] is the valid part."""


def pad_motions(
    motions: Sequence[np.ndarray] | np.ndarray, lengths: Sequence[int], feature_dim: int, pad_to: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(N, max(T_max, pad_to), D) float32 batch zero-padded after each length (as the
    reference loader pads with zeros), and the int64 lengths. A fixed `pad_to` keeps
    conv encoders independent of the other motions in the batch."""
    from hmvlm_bench.errors import UserError

    lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if len(motions) != lens.size:
        raise UserError(f"{len(motions)} motions but {lens.size} lengths")
    if lens.size == 0:
        raise UserError("no motions to encode")
    t_max = max(int(lens.max()), pad_to)
    out = np.zeros((lens.size, t_max, feature_dim), dtype=np.float32)
    for i, (m, n) in enumerate(zip(motions, lens)):
        arr = np.asarray(m)
        if arr.ndim != 2 or arr.shape[1] != feature_dim:
            raise UserError(f"motion {i} has shape {arr.shape}, expected (T, {feature_dim})")
        if n < 1 or n > arr.shape[0]:
            raise UserError(f"motion {i}: length {n} outside 1..{arr.shape[0]}")
        out[i, :n] = arr[:n]
    return out, lens
