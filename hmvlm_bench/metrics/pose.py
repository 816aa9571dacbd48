"""3D pose errors: MPJPE, PA-MPJPE, PCK (ChatPose / SPIN protocol).

Inputs are (N, J, 3) joint positions in metres by default (`unit="m"`) or millimetres
(`unit="mm"`); every result is in millimetres. Functions return per-sample arrays;
`pose_metrics` adds the means.
"""
from __future__ import annotations

import numpy as np

from hmvlm_bench.errors import UserError

_TO_MM = {"m": 1000.0, "mm": 1.0}
PCK_THRESHOLD_MM = 150.0  # common 3DPCK threshold (Mehta et al. 2017, MPI-INF-3DHP)


def _prepare(pred: np.ndarray, gt: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    if unit not in _TO_MM:
        raise UserError(f"unit must be 'm' or 'mm', got {unit!r}")
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.ndim == 2 and g.ndim == 2:  # a single pose
        p, g = p[None], g[None]
    if p.shape != g.shape or p.ndim != 3 or p.shape[-1] != 3:
        raise UserError(f"pose arrays must both be (N, J, 3), got {p.shape} and {g.shape}")
    s = _TO_MM[unit]
    return p * s, g * s


def _root_align(p: np.ndarray, g: np.ndarray, root: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0 <= root < p.shape[1]:
        raise UserError(f"root joint {root} out of range for {p.shape[1]} joints")
    return p - p[:, root : root + 1], g - g[:, root : root + 1]


def mpjpe(pred: np.ndarray, gt: np.ndarray, root_align: bool = True, root: int = 0, unit: str = "m") -> np.ndarray:
    """Mean per-joint position error (mm) per sample, shape (N,). With root_align the
    root joint (pelvis, index 0 in the HumanML3D skeleton) of each pose is moved to the
    origin first, as in the H3.6M protocol."""
    p, g = _prepare(pred, gt, unit)
    if root_align:
        p, g = _root_align(p, g, root)
    return np.linalg.norm(p - g, axis=-1).mean(axis=-1)


def similarity_procrustes(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Align each pred (N, J, 3) to gt by the least-squares similarity transform
    (rotation, translation, isotropic scale; Umeyama 1991). Reflections are excluded
    by flipping the sign of the last singular direction when det(U V^T) < 0, as
    SPIN's `compute_similarity_transform` (used by ChatPose) does."""
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    mu_p = p.mean(axis=1, keepdims=True)
    mu_g = g.mean(axis=1, keepdims=True)
    x = p - mu_p
    y = g - mu_g
    var_x = np.sum(x * x, axis=(1, 2))
    k = np.einsum("nji,njk->nik", x, y)  # (N, 3, 3) cross-covariance x^T y
    u, _, vt = np.linalg.svd(k)
    v = np.swapaxes(vt, 1, 2)
    sign = np.sign(np.linalg.det(u @ vt))
    sign[sign == 0] = 1.0
    z = np.tile(np.eye(3), (p.shape[0], 1, 1))
    z[:, 2, 2] = sign
    r = v @ z @ np.swapaxes(u, 1, 2)  # maps x to y: r @ x_j
    scale = np.einsum("nii->n", r @ k) / np.where(var_x > 0, var_x, 1.0)
    aligned = scale[:, None, None] * np.einsum("nik,njk->nji", r, x) + mu_g
    return aligned


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray, unit: str = "m") -> np.ndarray:
    """Procrustes-aligned MPJPE (mm) per sample, shape (N,)."""
    p, g = _prepare(pred, gt, unit)
    return np.linalg.norm(similarity_procrustes(p, g) - g, axis=-1).mean(axis=-1)


def pck(
    pred: np.ndarray,
    gt: np.ndarray,
    threshold_mm: float = PCK_THRESHOLD_MM,
    root_align: bool = True,
    root: int = 0,
    unit: str = "m",
) -> np.ndarray:
    """Fraction of joints within `threshold_mm` of the ground truth, per sample (N,)."""
    p, g = _prepare(pred, gt, unit)
    if root_align:
        p, g = _root_align(p, g, root)
    return (np.linalg.norm(p - g, axis=-1) <= threshold_mm).mean(axis=-1)


def pose_metrics(pred: np.ndarray, gt: np.ndarray, unit: str = "m", root: int = 0) -> dict[str, object]:
    """{"MPJPE", "PA-MPJPE", "PCK@150"}: means in mm (PCK a fraction), plus the
    per-sample arrays under "per_sample"."""
    per = {
        "MPJPE": mpjpe(pred, gt, True, root, unit),
        "PA-MPJPE": pa_mpjpe(pred, gt, unit),
        "PCK@150": pck(pred, gt, PCK_THRESHOLD_MM, True, root, unit),
    }
    out: dict[str, object] = {k: float(v.mean()) for k, v in per.items()}
    out["per_sample"] = per
    return out
