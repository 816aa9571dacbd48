"""Joint positions (T, J, 3) <-> HumanML3D-style motion features: 263-d for HumanML3D's
22 joints (default), 251-d for KIT-ML's 21 joints (`skeleton=KIT`).

Procedure of EricGuo5513/HumanML3D `motion_representation.ipynb` (`process_file`,
`recover_from_ric`) and `common/skeleton.py` (`inverse_kinematics_np`), re-implemented in
vectorised numpy once over a `skeleton.SkeletonSpec`; KIT-ML runs the same procedure with
its own constants (text-to-motion `scripts/motion_process.py`, KIT block: see skeleton.py).
Steps: uniform skeleton (HumanML3D: target bone lengths `skeleton.BONE_LENGTHS`,
i.e. HumanML3D's reference subject, scale the root by the leg-length ratio), put on floor,
root XZ of frame 0 at the origin, rotate so frame 0 faces Z+, then features.

Deliberate reproductions of HumanML3D details (so our features match released data):
- the per-frame heading used for the features comes from IK's face-joint unpacking,
  which adds (left_hip - right_hip) to (right_shoulder - left_shoulder); it is smoothed
  with a Gaussian (sigma 20 frames, mode 'nearest') and frame 0 is forced to identity;
- the root angular velocity feature is arcsin of the Y component of the relative heading
  quaternion (half the angle); the recovery integrates it the same way.
Deliberate departures (HumanML3D gives NaN or a wrong sign there, never on normal data):
- opposite vectors in `quat_between` rotate 180 degrees instead of producing NaN;
- the relative heading quaternion is put in the w >= 0 hemisphere before the arcsin,
  so a heading that crosses 180 degrees does not flip the turning direction.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.kinematics import (
    matrix_to_rot6d,
    quat_between,
    quat_inv,
    quat_mul,
    quat_rotate,
    quat_rotate_torch,
    quat_to_matrix,
)
from hmvlm_bench.motion.skeleton import HUMANML3D, SkeletonSpec

if TYPE_CHECKING:
    import torch

# Gaussian smoothing of the facing direction (HumanML3D skeleton.py: sigma 20 frames).
_HEADING_SIGMA = 20.0
_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])


def _check_joints(joints: np.ndarray, skeleton: SkeletonSpec, min_frames: int = 1) -> np.ndarray:
    arr = np.asarray(joints)
    n = skeleton.n_joints
    if arr.ndim != 3 or arr.shape[1:] != (n, 3):
        raise UserError(f"{skeleton.name} joints must have shape (T, {n}, 3), got {arr.shape}")
    if arr.shape[0] < min_frames:
        raise UserError(f"motion needs at least {min_frames} frames, got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise UserError("joints contain NaN or inf")
    return arr.astype(np.float64)


def bone_lengths(joints: np.ndarray, skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """Length of every bone (parent -> joint) of `joints` (..., J, 3) -> (..., J); root 0."""
    j = np.asarray(joints, dtype=np.float64)
    out = np.zeros(j.shape[:-1])
    out[..., 1:] = np.linalg.norm(j[..., 1:, :] - j[..., list(skeleton.parents[1:]), :], axis=-1)
    return out


def uniform_skeleton(joints: np.ndarray, target_lengths: np.ndarray | None = None,
                     skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """Retarget to the target bone lengths keeping every bone's direction.

    Equivalent to HumanML3D `uniform_skeleton` (IK then FK with the target offsets): the
    root trajectory is scaled by the leg-length ratio of frame 0. Target: `target_lengths`,
    else the skeleton's own (HumanML3D: subject 000021), else (KIT-ML, whose target clip
    is not shipped) the clip's frame-0 lengths, so the scale is 1.
    """
    j = _check_joints(joints, skeleton)
    src = bone_lengths(j[0], skeleton)
    tgt = target_lengths if target_lengths is not None else skeleton.bone_lengths
    tgt = src if tgt is None else np.asarray(tgt, np.float64)
    leg = list(skeleton.leg_joints)
    src_leg = src[leg].sum()
    if src_leg <= 0:
        raise UserError("degenerate skeleton: zero leg length in frame 0")
    scale = tgt[leg].sum() / src_leg
    out = np.empty_like(j)
    out[:, 0] = j[:, 0] * scale
    parents = skeleton.parents
    for k in range(1, skeleton.n_joints):  # parents precede children
        p = parents[k]
        bone = j[:, k] - j[:, p]
        norm = np.linalg.norm(bone, axis=-1, keepdims=True)
        # a zero-length source bone has no direction: fall back to the rest direction
        unit = np.where(norm > 1e-12, bone / np.maximum(norm, 1e-12), skeleton.raw_offsets[k])
        out[:, k] = out[:, p] + tgt[k] * unit
    return out


def _forward_from_across(across: np.ndarray) -> np.ndarray:
    across = across / np.linalg.norm(across, axis=-1, keepdims=True)
    forward = np.cross(_Y, across)
    return forward


def canonicalize(joints: np.ndarray, target_lengths: np.ndarray | None = None,
                 skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """HumanML3D pre-processing of joint positions (T, J, 3) -> (T, J, 3) float64.

    Uniform skeleton, lowest joint of the clip on the floor (y = 0), root XZ of frame 0 at
    the origin, frame 0 facing Z+ (face joints right hip, left hip, right/left shoulder).
    """
    pos = uniform_skeleton(joints, target_lengths, skeleton)
    pos[..., 1] -= pos[..., 1].min()
    pos -= pos[0, 0] * np.array([1.0, 0.0, 1.0])
    r_hip, l_hip, sdr_r, sdr_l = skeleton.face_joints
    first = pos[0]
    forward = _forward_from_across((first[r_hip] - first[l_hip]) + (first[sdr_r] - first[sdr_l]))
    forward = forward / np.linalg.norm(forward)
    q = quat_between(forward, _Z, fallback_axis=_Y)
    return quat_rotate(q, pos)


def heading_quats(positions: np.ndarray, smooth: bool = True, skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """Per-frame root rotation (T, 4) that turns the body's facing direction onto Z+.

    As HumanML3D `inverse_kinematics_np`: note its face-joint unpacking (see module doc)
    and that frame 0 is set to the identity.
    """
    from scipy.ndimage import gaussian_filter1d

    # IK unpacks face joints (HumanML3D [2, 1, 17, 16]) as (l_hip, r_hip, sdr_r, sdr_l) and
    # computes joints[r_hip] - joints[l_hip] = joints[1] - joints[2] (common/skeleton.py);
    # KIT's [11, 16, 5, 8] goes through the same unpacking.
    a, b, sdr_r, sdr_l = skeleton.face_joints
    across = (positions[:, b] - positions[:, a]) + (positions[:, sdr_r] - positions[:, sdr_l])
    forward = _forward_from_across(across)
    if smooth:
        forward = gaussian_filter1d(forward, _HEADING_SIGMA, axis=0, mode="nearest")
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    q = quat_between(forward, np.broadcast_to(_Z, forward.shape), fallback_axis=_Y)
    q[0] = np.array([1.0, 0.0, 0.0, 0.0])
    return q


def local_rotations(positions: np.ndarray, root_quat: np.ndarray, skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """Per-joint local rotation matrices (T, J, 3, 3) from positions, as HumanML3D IK.

    Joint j's rotation turns its raw offset direction onto the bone parent -> j, expressed
    relative to the previous joint of its kinematic chain (the root rotation for the first
    bone of every chain, including the arm chains that start at spine3 / KIT's joint 3).
    """
    t, n = positions.shape[0], skeleton.n_joints
    glob = np.zeros((t, n, 4))
    glob[:, 0] = root_quat
    local = np.zeros((t, n, 4))
    local[:, 0] = root_quat
    for chain in skeleton.kinematic_chain:
        for k in range(1, len(chain)):
            j, p = chain[k], chain[k - 1]
            bone = positions[:, j] - positions[:, p]
            bone = bone / np.linalg.norm(bone, axis=-1, keepdims=True)
            g = quat_between(np.broadcast_to(skeleton.raw_offsets[j], bone.shape), bone)
            prev = root_quat if k == 1 else glob[:, p]
            local[:, j] = quat_mul(quat_inv(prev), g)
            glob[:, j] = g
    return quat_to_matrix(local)


def joints_to_features(
    joints: np.ndarray,
    *,
    target_lengths: np.ndarray | None = None,
    feet_threshold: float | None = None,
    already_canonical: bool = False,
    skeleton: SkeletonSpec = HUMANML3D,
) -> np.ndarray:
    """Joint positions (T, J, 3), Y up -> features (T-1, D): HumanML3D (22 joints in
    metres, 263-d) by default, KIT-ML (21 joints in millimetres, 251-d) with `skeleton=KIT`.

    `feet_threshold` defaults to the skeleton's (0.002 m^2 HumanML3D, 0.05 mm^2 KIT).
    Output dtype is float32 for float32 input and float64 otherwise. Pass
    `already_canonical=True` to skip `canonicalize` (positions already processed).
    """
    in_dtype = np.asarray(joints).dtype
    pos = _check_joints(joints, skeleton, min_frames=2)
    if not already_canonical:
        pos = canonicalize(pos, target_lengths, skeleton)
    thre = skeleton.feet_threshold if feet_threshold is None else feet_threshold

    # foot contacts: squared frame-to-frame displacement under the threshold
    disp2 = ((pos[1:] - pos[:-1]) ** 2).sum(-1)
    feet_l = (disp2[:, list(skeleton.foot_left)] < thre).astype(np.float64)
    feet_r = (disp2[:, list(skeleton.foot_right)] < thre).astype(np.float64)

    r_rot = heading_quats(pos, smooth=True, skeleton=skeleton)
    rotmats = local_rotations(pos, r_rot, skeleton)
    rot6d = matrix_to_rot6d(rotmats[:, 1:]).reshape(len(pos), -1)

    root_vel = quat_rotate(r_rot[1:], pos[1:, 0] - pos[:-1, 0])
    rel = quat_mul(r_rot[1:], quat_inv(r_rot[:-1]))
    rel = np.where(rel[:, :1] < 0, -rel, rel)  # same rotation, w >= 0 (see module doc)
    rot_vel = np.arcsin(np.clip(rel[:, 2:3], -1.0, 1.0))

    ric = pos.copy()
    ric[..., 0] -= pos[:, :1, 0]
    ric[..., 2] -= pos[:, :1, 2]
    ric = quat_rotate(r_rot[:, None], ric)

    local_vel = quat_rotate(r_rot[:-1, None], pos[1:] - pos[:-1])

    n = len(pos) - 1
    feats = np.concatenate(
        [
            rot_vel,
            root_vel[:, [0, 2]],
            ric[:-1, 0, 1:2],
            ric[:-1, 1:].reshape(n, -1),
            rot6d[:-1],
            local_vel.reshape(n, -1),
            feet_l,
            feet_r,
        ],
        axis=-1,
    )
    assert feats.shape[1] == skeleton.feature_dim
    return feats.astype(np.float32 if in_dtype == np.float32 else np.float64)


def _check_features(feats: np.ndarray | "torch.Tensor", skeleton: SkeletonSpec) -> None:
    if feats.ndim < 2 or feats.shape[-1] != skeleton.feature_dim:
        raise UserError(
            f"expected {skeleton.name} features (..., T, {skeleton.feature_dim}), got shape {tuple(feats.shape)}"
        )


def features_to_joints(feats: np.ndarray, skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """HumanML3D `recover_from_ric`: features (..., T, D) -> joints (..., T, J, 3)
    (263 -> 22 joints by default; 251 -> 21 with `skeleton=KIT`).

    Integrates root rotation and linear velocity (root starts at the XZ origin facing Z+)
    and rotates the root-relative positions back. Keeps float32/float64 of the input.
    """
    f = np.asarray(feats)
    _check_features(f, skeleton)
    n_joints = skeleton.n_joints
    dtype = f.dtype if f.dtype in (np.float32, np.float64) else np.float64
    f = f.astype(np.float64)
    ang = np.zeros(f.shape[:-1])
    ang[..., 1:] = f[..., :-1, 0]
    ang = np.cumsum(ang, axis=-1)
    quat = np.zeros(f.shape[:-1] + (4,))
    quat[..., 0] = np.cos(ang)
    quat[..., 2] = np.sin(ang)
    inv = quat_inv(quat)
    step = np.zeros(f.shape[:-1] + (3,))
    step[..., 1:, 0] = f[..., :-1, 1]
    step[..., 1:, 2] = f[..., :-1, 2]
    root = np.cumsum(quat_rotate(inv, step), axis=-2)
    root[..., 1] = f[..., 3]
    ric = f[..., 4 : 4 + (n_joints - 1) * 3].reshape(f.shape[:-1] + (n_joints - 1, 3))
    ric = quat_rotate(inv[..., None, :], ric)
    ric[..., 0] += root[..., None, 0]
    ric[..., 2] += root[..., None, 2]
    return np.concatenate([root[..., None, :], ric], axis=-2).astype(dtype)


def recover_joints_torch(feats: "torch.Tensor", skeleton: SkeletonSpec = HUMANML3D) -> "torch.Tensor":
    """Differentiable torch twin of `features_to_joints`: (..., T, D) -> (..., T, J, 3)."""
    import torch

    _check_features(feats, skeleton)
    n_joints = skeleton.n_joints
    ang = torch.cumsum(torch.nn.functional.pad(feats[..., :-1, 0], (1, 0)), dim=-1)
    zeros = torch.zeros_like(ang)
    inv = torch.stack([torch.cos(ang), zeros, -torch.sin(ang), zeros], dim=-1)
    vel = torch.nn.functional.pad(feats[..., :-1, 1:3], (0, 0, 1, 0))
    step = torch.stack([vel[..., 0], torch.zeros_like(vel[..., 0]), vel[..., 1]], dim=-1)
    root_xz = torch.cumsum(quat_rotate_torch(inv, step), dim=-2)
    root = torch.stack([root_xz[..., 0], feats[..., 3], root_xz[..., 2]], dim=-1)
    ric = feats[..., 4 : 4 + (n_joints - 1) * 3].reshape(*feats.shape[:-1], n_joints - 1, 3)
    ric = quat_rotate_torch(inv[..., None, :], ric)
    offset = torch.stack([root[..., 0], torch.zeros_like(root[..., 0]), root[..., 2]], dim=-1)
    ric = ric + offset[..., None, :]
    return torch.cat([root[..., None, :], ric], dim=-2)
