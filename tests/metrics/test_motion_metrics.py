"""Golden and cross-check tests for hmvlm_bench.metrics.motion."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from hmvlm_bench.errors import UserError
from hmvlm_bench.metrics import motion as M


# ------------------------------------------------------------------ independent re-implementations
def _ref_frechet(mu1, s1, mu2, s2):
    covmean = linalg.sqrtm(s1.dot(s2)).real
    d = mu1 - mu2
    return d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def _ref_r_precision(text, motion, top_k=3, bs=32):
    # loop version of Guo et al.'s calculate_R_precision on complete batches
    hits = np.zeros(top_k)
    nb = len(text) // bs
    for b in range(nb):
        t, m = text[b * bs:(b + 1) * bs], motion[b * bs:(b + 1) * bs]
        for i in range(bs):
            d = np.array([np.sqrt(((t[i] - m[j]) ** 2).sum()) for j in range(bs)])
            order = np.argsort(d, kind="stable")
            for k in range(top_k):
                hits[k] += i in order[: k + 1]
    return hits / (nb * bs)


def test_fid_of_set_with_itself_is_zero():
    a = np.random.default_rng(0).normal(size=(500, 16))
    assert M.fid(a, a) == pytest.approx(0.0, abs=1e-8)
    assert M.fid(a, a, method="eigh") == pytest.approx(0.0, abs=1e-8)


def test_frechet_closed_form_two_gaussians():
    # Diagonal covariances: d^2 = |mu1-mu2|^2 + sum (sqrt(a) - sqrt(b))^2
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 1) ** 2
    for method in ("sqrtm", "eigh"):
        assert M.frechet_distance(mu1, np.diag(a), mu2, np.diag(b), method=method) == pytest.approx(expected)


def test_frechet_singular_covariance_is_finite():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10, 32))  # rank 9 covariance in 32-d
    y = rng.normal(size=(10, 32))
    v1 = M.fid(x, y)
    v2 = M.fid(x, y, method="eigh")
    assert np.isfinite(v1) and np.isfinite(v2)
    assert v1 == pytest.approx(v2, rel=1e-3)


def test_frechet_matches_independent_implementation():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(400, 24)), 0.8 * rng.normal(size=(400, 24)) + 0.3
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = _ref_frechet(mu1, s1, mu2, s2)
    ma, sa = M.activation_statistics(a)
    np.testing.assert_allclose(sa, s1, atol=1e-12)
    assert M.frechet_distance(ma, sa, mu2, s2) == pytest.approx(ref, abs=1e-6)
    assert M.frechet_distance(ma, sa, mu2, s2, method="eigh") == pytest.approx(ref, abs=1e-6)
    assert M.ReferenceStatistics.from_activations(a).fid_to(b) == pytest.approx(ref, abs=1e-6)


def test_euclidean_distance_matrix_never_nan():
    x = np.full((3, 8), 1e3)
    d = M.euclidean_distance_matrix(x, x)
    assert np.isfinite(d).all() and np.allclose(d, 0, atol=1e-3)


def test_r_precision_known_ranks():
    # 32 pairs on a line: text i at position 10*i, its motion offset so that exactly
    # r_i other motions are nearer. motion_j = 10*j except the true one moved away.
    bs = 32
    text = np.zeros((bs, 2))
    text[:, 0] = 100.0 * np.arange(bs)
    motion = text.copy()
    motion[0, 1] = 150.0  # text 0: motion 0 at distance 150, motion 1 at 100 -> rank 1
    motion[5, 1] = 250.0  # text 5: motions 4,6 (100), 3,7 (200) nearer -> rank 4
    rp = M.r_precision(text, motion, top_k=3)
    ranks = M.true_match_ranks(text, motion)
    assert ranks[0] == 1 and ranks[5] == 4 and (np.delete(ranks, [0, 5]) == 0).all()
    np.testing.assert_allclose(rp, [30 / 32, 31 / 32, 31 / 32])


def test_r_precision_drops_incomplete_last_batch():
    rng = np.random.default_rng(3)
    t = rng.normal(size=(64, 8))
    full = M.r_precision(t, t)
    np.testing.assert_allclose(full, 1.0)
    # 70 pairs, last 6 hopeless (far-off motions): dropped, so still 1.0
    t2 = np.vstack([t, rng.normal(size=(6, 8))])
    m2 = np.vstack([t, rng.normal(size=(6, 8)) + 100])
    np.testing.assert_allclose(M.r_precision(t2, m2), 1.0)
    with pytest.raises(UserError):
        M.r_precision(t[:10], t[:10])


def test_r_precision_and_mm_dist_match_independent_implementation():
    rng = np.random.default_rng(4)
    t = rng.normal(size=(100, 16))
    m = t + rng.normal(size=(100, 16))
    np.testing.assert_allclose(M.r_precision(t, m), _ref_r_precision(t, m), atol=1e-12)
    mm = np.mean([np.linalg.norm(t[i] - m[i]) for i in range(96)])
    assert M.matching_distance(t, m, batch_size=32) == pytest.approx(mm, abs=1e-9)


def test_diversity_known_points():
    # Two clusters 10 apart on x (plus tiny noise-free duplicates): any pair is 0 or 10.
    pts = np.zeros((400, 3))
    pts[200:, 0] = 10.0
    g = np.random.default_rng(5)
    val = M.diversity(pts, 300, g)
    # recompute with the same draws
    g2 = np.random.default_rng(5)
    i, j = g2.choice(400, 300, replace=False), g2.choice(400, 300, replace=False)
    assert val == pytest.approx(10.0 * np.mean((i >= 200) != (j >= 200)))
    # all points equal -> 0
    assert M.diversity(np.ones((301, 4)), 300, 0) == 0.0
    with pytest.raises(UserError):
        M.diversity(pts[:300], 300, 0)


def test_multimodality_known_points():
    # generation g of every text sits at g * e_0: the distance of a pair is |g1 - g2|
    gens = np.zeros((5, 30, 4))
    gens[:, :, 0] = np.arange(30)
    g = np.random.default_rng(6)
    val = M.multimodality(gens, 10, g)
    g2 = np.random.default_rng(6)
    a, b = g2.choice(30, 10, replace=False), g2.choice(30, 10, replace=False)
    assert val == pytest.approx(np.abs(a - b).mean())
    with pytest.raises(UserError):
        M.multimodality(gens[:, :10], 10, 0)


def test_diversity_matches_independent_implementation():
    a = np.random.default_rng(7).normal(size=(500, 32))
    g = np.random.default_rng(8)
    i = g.choice(500, 300, replace=False)
    j = g.choice(500, 300, replace=False)
    ref = np.mean([np.sqrt(((a[x] - a[y]) ** 2).sum()) for x, y in zip(i, j)])
    assert M.diversity(a, 300, 8) == pytest.approx(ref, abs=1e-9)


def test_summary_uses_population_std_like_reference():
    vals = np.array([1.0, 2.0, 3.0, 4.0])
    s = M.summarize(vals)
    assert s.mean == 2.5
    assert s.ci95 == pytest.approx(1.96 * np.sqrt(1.25) / 2.0)  # np.std ddof=0
    s2 = M.summarize(np.array([[1.0, 0.0], [3.0, 0.0]]))
    np.testing.assert_allclose(s2.mean, [2.0, 0.0])
    np.testing.assert_allclose(s2.ci95, [1.96 / np.sqrt(2), 0.0])


def test_replicate_is_deterministic_and_independent():
    f = lambda g: g.normal()  # noqa: E731
    a, b = M.replicate(f, 20, seed=3), M.replicate(f, 20, seed=3)
    np.testing.assert_array_equal(a.values, b.values)
    assert len(set(a.values.tolist())) == 20 and a.n == 20


def test_replicate_t2m_metrics_real_vs_random():
    rng = np.random.default_rng(9)
    text = rng.normal(size=(320, 32))
    motion = text + 0.05 * rng.normal(size=text.shape)
    good = M.replicate_t2m_metrics(text, motion, motion, n=5, seed=0)
    assert good["R@1"].mean > 0.99 and good["FID"].mean == pytest.approx(0.0, abs=1e-8)
    shuffled = [rng.permutation(motion) for _ in range(5)]
    bad = M.replicate_t2m_metrics([text] * 5, shuffled, motion, n=5, seed=0)
    assert bad["R@3"].mean < 0.25 and set(good) == {"R@1", "R@2", "R@3", "MM-Dist", "FID", "Diversity"}
