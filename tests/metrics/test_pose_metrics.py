"""Pose metrics: hand-computed MPJPE, similarity invariance of PA-MPJPE, cross-checks."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from hmvlm_bench.errors import UserError
from hmvlm_bench.metrics import pose as P


def _ref_pa_mpjpe_single(s1, s2):
    """Loop re-implementation of SPIN's compute_similarity_transform (3 x J layout)."""
    s1, s2 = s1.T, s2.T
    mu1, mu2 = s1.mean(1, keepdims=True), s2.mean(1, keepdims=True)
    x1, x2 = s1 - mu1, s2 - mu2
    k = x1 @ x2.T
    u, _, vh = np.linalg.svd(k)
    z = np.eye(3)
    z[-1, -1] *= np.sign(np.linalg.det(u @ vh))
    r = vh.T @ z @ u.T
    scale = np.trace(r @ k) / (x1 ** 2).sum()
    t = mu2 - scale * r @ mu1
    hat = scale * r @ s1 + t
    return np.sqrt(((hat - s2) ** 2).sum(0)).mean()


def test_mpjpe_by_hand():
    gt = np.zeros((1, 3, 3))
    pred = np.zeros((1, 3, 3))
    pred[0, 1] = [0.003, 0.004, 0.0]  # 5 mm
    pred[0, 2] = [0.0, 0.0, 0.012]  # 12 mm
    np.testing.assert_allclose(P.mpjpe(pred, gt), [(0 + 5 + 12) / 3])
    np.testing.assert_allclose(P.mpjpe(pred * 1000, gt, unit="mm"), [17 / 3])
    # root alignment removes a global offset
    np.testing.assert_allclose(P.mpjpe(pred + 1.0, gt + 1.0), [17 / 3])
    shifted = pred + np.array([0.1, 0, 0])
    np.testing.assert_allclose(P.mpjpe(shifted, gt, root_align=True), [17 / 3])
    assert P.mpjpe(shifted, gt, root_align=False)[0] > 90
    with pytest.raises(UserError):
        P.mpjpe(pred, gt, unit="cm")


def test_pck_by_hand():
    gt = np.zeros((1, 4, 3))
    pred = np.zeros((1, 4, 3))
    pred[0, 1, 0] = 0.149
    pred[0, 2, 0] = 0.151
    pred[0, 3, 0] = 0.5
    np.testing.assert_allclose(P.pck(pred, gt), [0.5])
    np.testing.assert_allclose(P.pck(pred, gt, threshold_mm=600), [1.0])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(0.2, 5.0),
    shift=st.tuples(*[st.floats(-3, 3)] * 3),
)
def test_pa_mpjpe_invariant_under_similarity(seed, scale, shift):
    rng = np.random.default_rng(seed)
    gt = rng.normal(size=(2, 22, 3))
    pred = gt + 0.05 * rng.normal(size=gt.shape)
    base = P.pa_mpjpe(pred, gt)
    rot = Rotation.random(random_state=seed).as_matrix()
    moved = scale * pred @ rot.T + np.array(shift)
    np.testing.assert_allclose(P.pa_mpjpe(moved, gt), base, rtol=1e-6, atol=1e-6)
    # A perfect pose under any similarity transform has zero error.
    np.testing.assert_allclose(P.pa_mpjpe(scale * gt @ rot.T + np.array(shift), gt), 0, atol=1e-6)


def test_pa_mpjpe_excludes_reflection():
    gt = np.random.default_rng(0).normal(size=(1, 10, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert P.pa_mpjpe(mirrored, gt)[0] > 1.0  # mm: a mirror is not aligned away


def test_mpjpe_and_pa_mpjpe_match_independent_implementation():
    rng = np.random.default_rng(11)
    gt = rng.normal(size=(6, 17, 3))
    pred = rng.normal(size=(6, 17, 3))
    ref_pa = [1000 * _ref_pa_mpjpe_single(pred[i], gt[i]) for i in range(6)]
    np.testing.assert_allclose(P.pa_mpjpe(pred, gt), ref_pa, atol=1e-6)
    ref_mp = [
        1000 * np.mean([np.linalg.norm((pred[i, j] - pred[i, 0]) - (gt[i, j] - gt[i, 0])) for j in range(17)])
        for i in range(6)
    ]
    np.testing.assert_allclose(P.mpjpe(pred, gt), ref_mp, atol=1e-6)
    out = P.pose_metrics(pred, gt)
    assert out["PA-MPJPE"] == pytest.approx(np.mean(ref_pa)) and out["PA-MPJPE"] <= out["MPJPE"] + 1e-9
