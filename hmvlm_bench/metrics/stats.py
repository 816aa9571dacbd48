"""Confidence intervals and significance tests for reports.

Small, documented helpers over numpy/scipy. All take plain arrays and an integer seed
or numpy Generator; none keeps state.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from hmvlm_bench.errors import UserError

Z95 = 1.96  # normal quantile used by Guo et al. (final_evaluations.py) for 95% CIs


def _vec(name: str, x: Sequence[float] | np.ndarray) -> np.ndarray:
    v = np.asarray(x, dtype=np.float64).reshape(-1)
    if v.size == 0:
        raise UserError(f"{name} is empty")
    return v


def normal_ci95(values: Sequence[float] | np.ndarray, ddof: int = 0) -> float:
    """Half-width 1.96 * std / sqrt(n). ddof=0 matches the HumanML3D reference
    (np.std default in final_evaluations.py); pass ddof=1 for the sample std."""
    v = _vec("values", values)
    return float(Z95 * v.std(ddof=ddof) / np.sqrt(v.size)) if v.size > ddof else float("nan")


def t_ci95(values: Sequence[float] | np.ndarray) -> float:
    """Half-width of the Student-t 95% interval of the mean (ddof=1)."""
    from scipy import stats

    v = _vec("values", values)
    if v.size < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))


@dataclass(frozen=True)
class BootstrapCI:
    """Point estimate and percentile interval [low, high] at level `level`."""

    estimate: float
    low: float
    high: float
    level: float


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float | np.ndarray] = np.mean,
    n_resamples: int = 2000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> BootstrapCI:
    """Percentile bootstrap CI of `statistic` over per-sample values (n,).

    `statistic` must accept a (n_resamples, n) array with axis=-1 (np.mean, np.median
    do), so resampling is one vectorised call."""
    v = _vec("values", values)
    if not 0.0 < level < 1.0:
        raise UserError(f"level must be in (0, 1), got {level}")
    g = np.random.default_rng(rng)
    idx = g.integers(0, v.size, size=(n_resamples, v.size))
    boot = np.asarray(statistic(v[idx], axis=-1), dtype=np.float64)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [alpha, 1.0 - alpha])
    return BootstrapCI(float(statistic(v, axis=-1)), float(low), float(high), level)


@dataclass(frozen=True)
class TestResult:
    """Difference of means (a - b) and its two-sided p-value."""

    diff: float
    p_value: float
    method: str


def paired_bootstrap_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n_resamples: int = 10000,
    rng: np.random.Generator | int | None = 0,
) -> TestResult:
    """Paired bootstrap test of mean(a) == mean(b) on per-sample scores of two systems
    over the same items (Koehn 2004 style). Resamples items, centres the resampled
    mean differences on zero (the null) and returns the two-sided fraction at least
    as extreme as the observed difference (+1 smoothing so p > 0)."""
    x = _vec("a", a)
    y = _vec("b", b)
    if x.size != y.size:
        raise UserError(f"paired test needs equal lengths, got {x.size} and {y.size}")
    d = x - y
    observed = float(d.mean())
    g = np.random.default_rng(rng)
    idx = g.integers(0, d.size, size=(n_resamples, d.size))
    boot = d[idx].mean(axis=1) - observed
    extreme = np.count_nonzero(np.abs(boot) >= abs(observed) - 1e-15)
    return TestResult(observed, float((extreme + 1) / (n_resamples + 1)), "paired-bootstrap")


def welch_t_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> TestResult:
    """Welch's unequal-variance t-test (scipy.stats.ttest_ind, equal_var=False),
    e.g. on the 20 replication values of two models."""
    from scipy import stats

    x = _vec("a", a)
    y = _vec("b", b)
    if x.size < 2 or y.size < 2:
        raise UserError("Welch t-test needs at least 2 values per group")
    res = stats.ttest_ind(x, y, equal_var=False)
    p = float(res.pvalue) if np.isfinite(res.pvalue) else 1.0
    return TestResult(float(x.mean() - y.mean()), p, "welch-t")


def holm_correction(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (same order as given), capped at 1.
    Reject H_i at family-wise level alpha iff adjusted[i] <= alpha."""
    p = _vec("p_values", p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty(m)
    out[order] = adjusted_sorted
    return out
