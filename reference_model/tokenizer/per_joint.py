"""Regroup the 263-d HumanML3D frame vector into one feature vector per joint, and back.

Layout (slices from `hmvlm_bench.motion.skeleton`):
- joint 0 (root): root rot vel (1), root lin vel xz (2), root height (1), its local vel (3) = 7
- joints 1..21:   ric xyz (3), rot6d (6), local vel (3) = 12
- ankles/feet 7, 10, 8, 11 additionally carry their foot-contact label (+1) = 13
Every one of the 263 entries lands in exactly one (joint, slot); unused slots are padding
(mask False) so all joints share width `JOINT_WIDTH` = 13. `scatter_joints` is the exact
inverse of `gather_joints` on the masked slots (a bijection 263 <-> mask.sum() == 263).
"""
from __future__ import annotations

from typing import Final

import numpy as np
import torch

from hmvlm_bench.motion.skeleton import (
    FEATURE_DIM, FOOT_CONTACT, FOOT_LEFT, FOOT_RIGHT, LOCAL_VEL, N_JOINTS, RIC,
    ROOT_HEIGHT, ROOT_LIN_VEL, ROOT_ROT_VEL, ROT6D,
)

# HumanML3D concatenates feet_l (joints 7, 10) then feet_r (8, 11) into the contact slice
# (motion_representation.ipynb: `np.concatenate([..., feet_l, feet_r])`).
CONTACT_JOINTS: Final[tuple[int, ...]] = FOOT_LEFT + FOOT_RIGHT


def _build_index() -> np.ndarray:
    """(22, W) array of feature indices per joint slot, -1 where padded."""
    rows: list[list[int]] = [[] for _ in range(N_JOINTS)]
    rows[0] += list(range(FEATURE_DIM))[ROOT_ROT_VEL] + list(range(FEATURE_DIM))[ROOT_LIN_VEL]
    rows[0] += list(range(FEATURE_DIM))[ROOT_HEIGHT]
    ric, rot, vel = (list(range(FEATURE_DIM))[s] for s in (RIC, ROT6D, LOCAL_VEL))
    rows[0] += vel[0:3]
    for j in range(1, N_JOINTS):
        k = j - 1  # ric/rot6d hold joints 1..21
        rows[j] += ric[3 * k: 3 * k + 3] + rot[6 * k: 6 * k + 6] + vel[3 * j: 3 * j + 3]
    contact = list(range(FEATURE_DIM))[FOOT_CONTACT]
    for j, c in zip(CONTACT_JOINTS, contact):
        rows[j].append(c)
    width = max(len(r) for r in rows)
    out = np.full((N_JOINTS, width), -1, dtype=np.int64)
    for j, r in enumerate(rows):
        out[j, : len(r)] = r
    flat = np.sort(out[out >= 0])
    assert np.array_equal(flat, np.arange(FEATURE_DIM)), "every feature used exactly once"
    return out


JOINT_INDEX: Final[np.ndarray] = _build_index()
JOINT_WIDTH: Final[int] = JOINT_INDEX.shape[1]
JOINT_MASK: Final[np.ndarray] = JOINT_INDEX >= 0


def gather_joints(feats: torch.Tensor) -> torch.Tensor:
    """(..., 263) -> (..., 22, JOINT_WIDTH); padded slots are exactly 0."""
    if feats.shape[-1] != FEATURE_DIM:
        raise ValueError(f"expected last dim {FEATURE_DIM}, got {feats.shape[-1]}")
    idx = torch.as_tensor(np.where(JOINT_MASK, JOINT_INDEX, 0), device=feats.device)
    mask = torch.as_tensor(JOINT_MASK, device=feats.device)
    out = feats[..., idx.reshape(-1)].reshape(*feats.shape[:-1], N_JOINTS, JOINT_WIDTH)
    return torch.where(mask, out, torch.zeros((), dtype=feats.dtype, device=feats.device))


def scatter_joints(per_joint: torch.Tensor) -> torch.Tensor:
    """(..., 22, JOINT_WIDTH) -> (..., 263); padded slots are ignored."""
    if tuple(per_joint.shape[-2:]) != (N_JOINTS, JOINT_WIDTH):
        raise ValueError(f"expected trailing shape {(N_JOINTS, JOINT_WIDTH)}, got {tuple(per_joint.shape[-2:])}")
    flat = per_joint.reshape(*per_joint.shape[:-2], N_JOINTS * JOINT_WIDTH)
    src = torch.as_tensor(np.flatnonzero(JOINT_MASK), device=per_joint.device)
    dst = torch.as_tensor(JOINT_INDEX[JOINT_MASK], device=per_joint.device)
    out = per_joint.new_zeros(*per_joint.shape[:-2], FEATURE_DIM)
    out[..., dst] = flat[..., src]
    return out
