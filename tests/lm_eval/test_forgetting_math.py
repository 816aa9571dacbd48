"""Forgetting deltas, paired bootstrap CIs and retention metrics on hand-computed cases."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmvlm_bench.metrics.forgetting import (
    forgetting_scores, paired_bootstrap_ci, prefix_match, retention_scores, rouge_l_f,
)


def test_rouge_l_hand_computed() -> None:
    # LCS("the cat sat", "the cat sat on the mat") = 3: P = 3/3, R = 3/6, F = 2PR/(P+R) = 2/3
    assert rouge_l_f("The cat sat", "the cat sat on the mat") == pytest.approx(2 / 3)
    assert rouge_l_f("", "") == 1.0 and rouge_l_f("x", "") == 0.0


def test_prefix_match_hand_computed() -> None:
    assert prefix_match("the dog ran", "the cat sat") == pytest.approx(1 / 3)
    assert prefix_match("Paris is the capital", "paris is the capital") == 1.0
    long_ref = " ".join(str(i) for i in range(40))
    assert prefix_match(" ".join(str(i) for i in range(16)) + " x", long_ref) == 1.0  # first 16 words only
    assert retention_scores("a b", "a b") == {"rouge_l_f": 1.0, "prefix_match": 1.0}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcde"), max_size=12), st.lists(st.sampled_from("abcde"), max_size=12))
def test_rouge_l_properties(a: list[str], b: list[str]) -> None:
    x, y = " ".join(a), " ".join(b)
    assert 0.0 <= rouge_l_f(x, y) <= 1.0
    assert rouge_l_f(x, y) == pytest.approx(rouge_l_f(y, x))  # F1 is symmetric
    assert rouge_l_f(x, x) == 1.0


def test_forgetting_scores_fixed_numbers() -> None:
    base = {"acc": 0.8, "word_perplexity": 80.0}
    tuned = {"acc": 0.6, "word_perplexity": 100.0}
    per_base = {"acc": [1, 1, 1, 1, 0]}
    per_tuned = {"acc": [1, 0, 1, 1, 0]}  # one item lost: every resample's diff is in [-1, 0]
    out = forgetting_scores(base, tuned, per_base, per_tuned, n_boot=2000, seed=0)
    acc = out["acc"]
    assert acc["delta"] == pytest.approx(-0.2) and acc["relative"] == pytest.approx(-0.25)
    assert acc["n"] == 5 and -1.0 <= acc["ci_low"] <= -0.2 <= acc["ci_high"] <= 0.0
    ppl = out["word_perplexity"]
    assert ppl["delta"] == pytest.approx(20.0) and ppl["relative"] == pytest.approx(0.25)
    assert math.isnan(ppl["ci_low"]) and ppl["n"] == 0  # no per-item scores: no CI


def test_paired_bootstrap_constant_shift_has_zero_width() -> None:
    base = [0.1, 0.5, 0.9, 0.3]
    lo, hi = paired_bootstrap_ci(base, [b - 0.25 for b in base], n_boot=500, seed=1)
    assert lo == pytest.approx(-0.25) and hi == pytest.approx(-0.25)


def test_paired_bootstrap_matches_normal_approximation() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    diff = rng.normal(0.1, 1.0, size=400)
    lo, hi = paired_bootstrap_ci(np.zeros(400), diff, n_boot=4000, seed=2)
    half = 1.96 * diff.std(ddof=1) / np.sqrt(diff.size)
    assert lo == pytest.approx(diff.mean() - half, abs=0.02)
    assert hi == pytest.approx(diff.mean() + half, abs=0.02)


def test_mismatched_items_rejected() -> None:
    # a caller's bug, not the user's input: an internal error that fails its pair alone
    with pytest.raises(ValueError, match="items"):
        forgetting_scores({"acc": 1.0}, {"acc": 1.0}, {"acc": [1, 0]}, {"acc": [1]})
