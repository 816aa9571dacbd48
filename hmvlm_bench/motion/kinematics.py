"""Rotation helpers (quaternions w-first, rotation matrices, continuous 6D) and FK.

Conventions follow HumanML3D `common/quaternion.py` (EricGuo5513/HumanML3D): quaternions
are (w, x, y, z); the continuous 6D rotation (Zhou et al. 2019) is the first two COLUMNS
of the rotation matrix, concatenated. Our own numpy code, vectorised over leading axes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hmvlm_bench.motion.skeleton import N_JOINTS, PARENTS, canonical_offsets

if TYPE_CHECKING:  # torch is imported lazily: data code must not pay for it
    import torch

_EPS = 1e-12


def quat_mul(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Hamilton product q * r of (..., 4) quaternions."""
    w1, x1, y1, z1 = np.moveaxis(q, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(r, -1, 0)
    return np.stack(
        (
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ),
        axis=-1,
    )


def quat_inv(q: np.ndarray) -> np.ndarray:
    """Inverse of unit quaternions (the conjugate)."""
    return q * np.array([1.0, -1.0, -1.0, -1.0], dtype=q.dtype)


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors v (..., 3) by unit quaternions q (..., 4); shapes broadcast."""
    qv = q[..., 1:]
    uv = np.cross(qv, v)
    uuv = np.cross(qv, uv)
    return v + 2.0 * (q[..., :1] * uv + uuv)


def quat_between(a: np.ndarray, b: np.ndarray, fallback_axis: np.ndarray | None = None) -> np.ndarray:
    """Shortest-arc unit quaternion rotating direction a onto direction b, (..., 3) -> (..., 4).

    Same formula as HumanML3D `qbetween`; where a and b are opposite (HumanML3D gives NaN)
    we rotate 180 degrees about `fallback_axis`, or about an axis perpendicular to a.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a, b = np.broadcast_arrays(a, b)
    v = np.cross(a, b)
    w = np.sqrt((a * a).sum(-1) * (b * b).sum(-1)) + (a * b).sum(-1)
    q = np.concatenate([w[..., None], v], axis=-1)
    norm = np.linalg.norm(q, axis=-1, keepdims=True)
    bad = norm[..., 0] < 1e-9 * np.maximum(np.sqrt((a * a).sum(-1) * (b * b).sum(-1)), _EPS)
    if bad.any():
        if fallback_axis is not None:
            axis = np.broadcast_to(np.asarray(fallback_axis, np.float64), a.shape)[bad]
        else:
            ab = a[bad]
            # the basis vector least aligned with a gives a well-conditioned perpendicular
            e = np.eye(3)[np.argmin(np.abs(ab), axis=-1)]
            axis = np.cross(ab, e)
        axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
        q[bad] = np.concatenate([np.zeros(axis.shape[:-1] + (1,)), axis], axis=-1)
        norm[bad] = 1.0
    return q / norm


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) unit quaternions -> (..., 3, 3) rotation matrices."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    two_s = 2.0 / (q * q).sum(-1)
    m = np.stack(
        (
            1 - two_s * (y * y + z * z), two_s * (x * y - z * w), two_s * (x * z + y * w),
            two_s * (x * y + z * w), 1 - two_s * (x * x + z * z), two_s * (y * z - x * w),
            two_s * (x * z - y * w), two_s * (y * z + x * w), 1 - two_s * (x * x + y * y),
        ),
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def matrix_to_rot6d(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 6): first column then second column (HumanML3D convention)."""
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def rot6d_to_matrix(d: np.ndarray) -> np.ndarray:
    """(..., 6) -> (..., 3, 3) by Gram-Schmidt, as HumanML3D `cont6d_to_matrix`."""
    x = d[..., 0:3] / np.linalg.norm(d[..., 0:3], axis=-1, keepdims=True)
    z = np.cross(x, d[..., 3:6])
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """Rodrigues: (..., 3) axis * angle (radians) -> (..., 3, 3)."""
    aa = np.asarray(aa, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    axis = aa / np.maximum(angle, _EPS)
    x, y, z = np.moveaxis(axis, -1, 0)
    zeros = np.zeros_like(x)
    k = np.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    s = np.sin(angle)[..., None]
    c = np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + s * k + (1 - c) * (k @ k)


def euler_to_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic Euler angles in degrees (..., 3), axes named by `order` (e.g. "ZXY") -> (..., 3, 3).

    Matches the BVH convention: R = R_order[0] @ R_order[1] @ R_order[2], angle i about axis
    order[i].
    """
    order = order.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise ValueError(f"bad Euler order {order!r}")
    rad = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    out = np.broadcast_to(np.eye(3), rad.shape[:-1] + (3, 3)).copy()
    for i, ax in enumerate(order):
        vec = np.zeros(rad.shape[:-1] + (3,))
        vec[..., "XYZ".index(ax)] = rad[..., i]
        out = out @ axis_angle_to_matrix(vec)
    return out


def fk(
    local_rotmats: np.ndarray,
    root_pos: np.ndarray,
    bone_offsets: np.ndarray | None = None,
    backend: str = "smplx",
) -> np.ndarray:
    """Forward kinematics on the 22-joint skeleton with `smplx.lbs.batch_rigid_transform`.

    local_rotmats (T, 22, 3, 3): SMPL convention, the rotation of joint j (relative to its
    parent's frame) turns the bones of j's CHILDREN; local_rotmats[:, 0] is the global root
    orientation. root_pos (T, 3): pelvis position. bone_offsets (22, 3): rest offsets of
    each joint from its parent (default: `skeleton.canonical_offsets()`).
    Returns global joint positions (T, 22, 3) float64. No SMPL model files are needed.
    backend="numpy" computes the same chain in numpy (several times faster on CPU for
    long batches; used by the synthetic generator).
    """
    rot = np.asarray(local_rotmats, dtype=np.float64)
    root = np.asarray(root_pos, dtype=np.float64)
    if rot.ndim != 4 or rot.shape[1:] != (N_JOINTS, 3, 3):
        raise ValueError(f"local_rotmats must be (T, 22, 3, 3), got {rot.shape}")
    if root.shape != (rot.shape[0], 3):
        raise ValueError(f"root_pos must be ({rot.shape[0]}, 3), got {root.shape}")
    offsets = canonical_offsets() if bone_offsets is None else np.asarray(bone_offsets, np.float64)
    rest = np.zeros((N_JOINTS, 3))
    for j in range(1, N_JOINTS):
        rest[j] = rest[PARENTS[j]] + offsets[j]
    if backend == "numpy":
        return _fk_numpy(rot, rest) + root[:, None, :]
    if backend != "smplx":
        raise ValueError(f"unknown fk backend {backend!r}")
    import torch
    from smplx.lbs import batch_rigid_transform

    n = rot.shape[0]
    posed, _ = batch_rigid_transform(
        torch.from_numpy(rot),
        torch.from_numpy(np.broadcast_to(rest, (n, N_JOINTS, 3)).copy()),
        torch.tensor(PARENTS, dtype=torch.long),
        dtype=torch.float64,
    )
    return posed.numpy() + root[:, None, :]


def _fk_numpy(rot: np.ndarray, rest: np.ndarray) -> np.ndarray:
    glob = np.empty_like(rot)
    pos = np.zeros(rot.shape[:2] + (3,))
    glob[:, 0] = rot[:, 0]
    for j in range(1, N_JOINTS):
        p = PARENTS[j]
        pos[:, j] = pos[:, p] + glob[:, p] @ (rest[j] - rest[p])
        glob[:, j] = glob[:, p] @ rot[:, j]
    return pos


# ---- torch versions (differentiable), used by recover_joints_torch --------------------


def quat_rotate_torch(q: "torch.Tensor", v: "torch.Tensor") -> "torch.Tensor":
    """Torch twin of `quat_rotate`; q (..., 4), v (..., 3), broadcasting."""
    import torch

    q = q.expand(*v.shape[:-1], 4)
    qv = q[..., 1:]
    uv = torch.cross(qv, v, dim=-1)
    uuv = torch.cross(qv, uv, dim=-1)
    return v + 2.0 * (q[..., :1] * uv + uuv)


def rot6d_to_matrix_torch(d: "torch.Tensor") -> "torch.Tensor":
    """Torch twin of `rot6d_to_matrix`."""
    import torch

    x = torch.nn.functional.normalize(d[..., 0:3], dim=-1)
    z = torch.nn.functional.normalize(torch.cross(x, d[..., 3:6], dim=-1), dim=-1)
    y = torch.cross(z, x, dim=-1)
    return torch.stack([x, y, z], dim=-1)
