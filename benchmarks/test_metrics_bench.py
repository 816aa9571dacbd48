"""Metric throughput: the T2M table for 4,384 test motions x 20 replications, from
precomputed 512-d embeddings (HumanML3D test size). Target: <= 5 s on a 2-core CPU
(measured ~0.7 s on an idle 2-core machine for the same-generations case; timings are
not asserted because shared CI machines vary by 10x).

Run: python -m pytest benchmarks/test_metrics_bench.py --benchmark-only
"""
from __future__ import annotations

import numpy as np
import pytest

from hmvlm_bench.metrics.motion import REPLICATIONS, replicate_t2m_metrics

N, D = 4384, 512


@pytest.fixture(scope="module")
def embeddings():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(N, D))
    text = gt + 0.8 * rng.normal(size=(N, D))
    gen = gt + 0.3 * rng.normal(size=(N, D))
    fresh = [gt + 0.3 * rng.normal(size=(N, D)) for _ in range(REPLICATIONS)]
    return text, gen, gt, fresh


def test_t2m_metrics_same_generations(benchmark, embeddings):
    """Our CPU protocol: one set of generations, reshuffled per replication."""
    text, gen, gt, _ = embeddings
    out = benchmark.pedantic(replicate_t2m_metrics, args=(text, gen, gt), kwargs={"n": REPLICATIONS},
                             rounds=3, iterations=1)
    assert out["R@3"].n == REPLICATIONS and 0 < out["R@3"].mean <= 1


def test_t2m_metrics_fresh_generations(benchmark, embeddings):
    """Paper protocol: new generations every replication (20 FIDs)."""
    text, _, gt, fresh = embeddings
    out = benchmark.pedantic(replicate_t2m_metrics, args=([text] * REPLICATIONS, fresh, gt),
                             kwargs={"n": REPLICATIONS}, rounds=2, iterations=1)
    assert out["FID"].ci95 > 0
