"""HumanML3D feature conversion: round trip, invariances, golden file, reference sample."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion import skeleton as S
from hmvlm_bench.motion.features import (
    bone_lengths,
    canonicalize,
    features_to_joints,
    joints_to_features,
    recover_joints_torch,
)
from hmvlm_bench.motion.kinematics import axis_angle_to_matrix, fk, quat_between, quat_rotate

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "features_formula_24f.npy"


def formula_motion(n: int = 24, turn: float = 0.05, scale: float = 1.0) -> np.ndarray:
    """A fixed walking-and-turning motion built from closed-form joint angles + FK."""
    t = np.arange(n) / S.FPS
    aa = np.zeros((n, S.N_JOINTS, 3))
    phase = 2 * np.pi * 1.5 * t
    aa[:, 0, 1] = turn * np.arange(n)  # heading, radians per frame
    aa[:, 1, 0] = 0.5 * np.sin(phase)  # left hip swing
    aa[:, 2, 0] = -0.5 * np.sin(phase)
    aa[:, 4, 0] = 0.6 * np.clip(np.sin(phase), 0, None)  # knees bend forward
    aa[:, 5, 0] = 0.6 * np.clip(-np.sin(phase), 0, None)
    aa[:, 17, 2] = 0.3 + 0.2 * np.sin(phase)  # right shoulder out
    aa[:, 19, 0] = -0.8  # right elbow
    aa[:, 16, 0] = 0.4 * np.sin(phase)
    aa[:, 3, 1] = 0.1 * np.sin(phase)  # spine twist
    rot = axis_angle_to_matrix(aa)
    heading = aa[:, 0, 1]
    step = 0.04 * np.stack([np.sin(heading), np.zeros(n), np.cos(heading)], -1)
    root = np.cumsum(step, axis=0) + np.array([0.3, 0.92, -0.2])
    return fk(rot, root) * scale


def test_fk_identity_is_rest_pose_and_keeps_bone_lengths() -> None:
    n = 3
    rot = np.broadcast_to(np.eye(3), (n, S.N_JOINTS, 3, 3)).copy()
    root = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.5, 2.0]])
    out = fk(rot, root)
    np.testing.assert_allclose(out, S.rest_joints()[None] + root[:, None], atol=1e-12)
    moving = formula_motion(10)
    np.testing.assert_allclose(bone_lengths(moving), np.broadcast_to(S.BONE_LENGTHS, (10, 22)), atol=1e-9)
    # a 90 degree root yaw sends the left hip (rest +X) to -Z
    rot[:, 0] = axis_angle_to_matrix(np.array([0.0, np.pi / 2, 0.0]))
    np.testing.assert_allclose(fk(rot, root)[0, 1] - root[0], [0, 0, -S.BONE_LENGTHS[1]], atol=1e-12)


def test_round_trip_recovers_canonical_joints() -> None:
    x = formula_motion(60, turn=0.08)  # turns 270 degrees: heading crosses 180
    feats = joints_to_features(x)
    assert feats.shape == (59, 263) and feats.dtype == np.float64
    back = features_to_joints(feats)
    canon = canonicalize(x)
    assert np.abs(back - canon[:-1]).max() < 1e-4
    # the canonical clip: on the floor, root starting at XZ origin, bones retargeted
    assert abs(canon[..., 1].min()) < 1e-12
    np.testing.assert_allclose(canon[0, 0, [0, 2]], 0.0, atol=1e-12)
    # a left turn (+Y) gives negative feature 0 (half-angle of the root's inverse heading
    # change); the smoothed heading passes 180 degrees without a sign flip
    assert (feats[:, 0] < 0).all() and -2 * feats[:, 0].sum() > np.pi


def test_float32_in_float32_out_and_torch_twin() -> None:
    import torch

    x = formula_motion(30).astype(np.float32)
    feats = joints_to_features(x)
    assert feats.dtype == np.float32
    t = torch.from_numpy(np.stack([feats, feats])).requires_grad_(True)
    rec = recover_joints_torch(t)
    assert rec.shape == (2, 29, 22, 3)
    np.testing.assert_allclose(rec[0].detach().numpy(), features_to_joints(feats), atol=1e-5)
    rec.sum().backward()
    assert t.grad is not None and torch.isfinite(t.grad).all()


def test_foot_contacts_follow_threshold() -> None:
    x = np.broadcast_to(formula_motion(1), (5, 22, 3)).copy()
    x[3:, S.FOOT_RIGHT[0]] += np.array([0.0, 0.0, 0.1])  # right ankle jumps 10 cm at frame 3
    c = joints_to_features(x)[:, S.FOOT_CONTACT]
    # columns: l_ankle, l_foot, r_ankle, r_foot; a still body is in contact everywhere
    np.testing.assert_array_equal(c[:, :2], 1.0)
    np.testing.assert_array_equal(c[:, 2], [1, 1, 0, 1])
    # the uniform skeleton keeps the right foot attached to the moved ankle
    np.testing.assert_array_equal(c[:, 3], [1, 1, 0, 1])


@settings(max_examples=15, deadline=None)
@given(
    yaw=st.floats(-np.pi, np.pi),
    shift=st.tuples(st.floats(-5, 5), st.floats(-1, 1), st.floats(-5, 5)),
    scale=st.floats(0.5, 2.0),
)
def test_features_invariant_to_yaw_translation_and_scale(yaw: float, shift: tuple, scale: float) -> None:
    x = formula_motion(24)
    q = quat_between(np.array([0.0, 0.0, 1.0]), np.array([np.sin(yaw), 0.0, np.cos(yaw)]),
                     fallback_axis=np.array([0.0, 1.0, 0.0]))
    y = quat_rotate(q, x * scale) + np.asarray(shift)
    np.testing.assert_allclose(joints_to_features(y), joints_to_features(x), atol=1e-6)


def test_golden_features() -> None:
    feats = joints_to_features(formula_motion(24).astype(np.float32))
    if os.environ.get("HMVLM_UPDATE_GOLDEN") == "1":
        np.save(GOLDEN, feats)
    golden = np.load(GOLDEN)
    assert golden.shape == (23, 263)
    np.testing.assert_allclose(feats, golden, atol=1e-5)


def test_bad_shapes_raise_user_error() -> None:
    with pytest.raises(UserError, match="263"):
        features_to_joints(np.zeros((10, 251)))
    with pytest.raises(UserError, match="263"):
        import torch

        recover_joints_torch(torch.zeros(10, 262))
    with pytest.raises(UserError, match="shape"):
        joints_to_features(np.zeros((10, 21, 3)))
    with pytest.raises(UserError, match="at least 2"):
        joints_to_features(np.zeros((1, 22, 3)))
    bad = formula_motion(4)
    bad[2, 3, 1] = np.nan
    with pytest.raises(UserError, match="NaN"):
        joints_to_features(bad)


_SAMPLE = os.environ.get("HMVLM_HUMANML3D_SAMPLE")  # dir with new_joints/ and new_joint_vecs/ 012314.npy


@pytest.mark.skipif(not _SAMPLE, reason="set HMVLM_HUMANML3D_SAMPLE to a HumanML3D sample dir")
def test_matches_released_humanml3d_sample() -> None:
    """Our features of HumanML3D's released joints equal its released features.

    The released joints lack the clip's last original frame, which shifts the heading
    smoothing (sigma 20, truncated at 80 frames) near the end: compare frames < T - 81.
    """
    root = Path(str(_SAMPLE))
    joints = np.load(root / "new_joints" / "012314.npy")
    ref = np.load(root / "new_joint_vecs" / "012314.npy")
    ours = joints_to_features(joints.astype(np.float64))
    n = len(ours) - 81
    np.testing.assert_allclose(ours[:n], ref[:n], atol=2e-5)
    np.testing.assert_allclose(features_to_joints(ref), joints, atol=1e-5)
