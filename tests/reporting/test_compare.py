"""compare: Welch vs scipy, Holm vs a hand-computed example, paired bootstrap, n/a paths."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from reporting_fixtures import make_result
from hmvlm_bench.errors import UserError
from hmvlm_bench.metrics.stats import holm_correction
from hmvlm_bench.reporting.compare import compare_results, compare_rows, welch_ci
from hmvlm_bench.results import write_result

A = [0.781, 0.779, 0.785, 0.776, 0.783, 0.780]  # baseline replications
B = [0.760, 0.771, 0.755, 0.768, 0.762]  # variant replications
C = [0.790, 0.779, 0.788, 0.781, 0.786, 0.792]


def _rec(vals: list[float], hib: bool = True) -> dict:
    return {"value": float(np.mean(vals)), "ci": 0.01, "values": vals, "higher_is_better": hib}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    write_result(root, make_result("base", "t2m", {"r_precision_top3": _rec(A)}, main="r_precision_top3"))
    write_result(root, make_result("v1", "t2m", {"r_precision_top3": _rec(B)}, main="r_precision_top3"))
    write_result(root, make_result("v2", "t2m", {"r_precision_top3": _rec(C)}, main="r_precision_top3"))
    return root


def test_welch_p_matches_scipy_and_holm(tree: Path) -> None:
    rows = compare_rows(tree, "base")
    assert [r.variant for r in rows] == ["v1", "v2"]
    p1 = stats.ttest_ind(B, A, equal_var=False).pvalue
    p2 = stats.ttest_ind(C, A, equal_var=False).pvalue
    assert rows[0].test == "welch-t" and rows[0].p_value == pytest.approx(p1, rel=1e-12)
    assert rows[1].p_value == pytest.approx(p2, rel=1e-12)
    assert rows[0].delta == pytest.approx(np.mean(B) - np.mean(A))
    lo, hi = sorted((min(p1, p2) * 2, max(p1, p2)))  # Holm with m=2
    holm = {min(p1, p2): min(1.0, 2 * min(p1, p2)), max(p1, p2): max(2 * min(p1, p2), max(p1, p2))}
    assert rows[0].p_holm == pytest.approx(holm[p1]) and rows[1].p_holm == pytest.approx(holm[p2])
    assert rows[0].improved is False and rows[0].significant


def test_holm_hand_example() -> None:
    # sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    np.testing.assert_allclose(holm_correction([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_welch_ci_by_hand() -> None:
    x, y = np.array(B), np.array(A)
    va, vb = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    df = (va + vb) ** 2 / (va ** 2 / (len(x) - 1) + vb ** 2 / (len(y) - 1))
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    lo, hi = welch_ci(B, A)
    assert lo == pytest.approx(x.mean() - y.mean() - half) and hi == pytest.approx(x.mean() - y.mean() + half)
    # the interval excludes 0 exactly when Welch's two-sided p < 0.05
    assert (hi < 0) == (stats.ttest_ind(B, A, equal_var=False).pvalue < 0.05)


def test_paired_bootstrap_and_na(results_tree: Path) -> None:
    rows = compare_rows(results_tree, "hmvlm", variants=["ground-truth"], tasks=["reconstruction"])
    mse = next(r for r in rows if r.metric == "mse")
    assert mse.test == "paired-bootstrap" and mse.note == "8 paired samples"
    assert mse.delta == pytest.approx(-0.2)  # per-sample values differ by exactly 0.2
    assert mse.ci_low == pytest.approx(-0.2) and mse.ci_high == pytest.approx(-0.2)
    part = next(r for r in rows if r.metric == "mse_torso")  # no samples field, no CI
    assert part.p_value is None and part.test == "none"
    rows = compare_rows(results_tree, "hmvlm", variants=["lora"], tasks=["forgetting"])
    assert rows[0].p_value is None and rows[0].ci_low == pytest.approx(22.0 - np.hypot(1.0, 1.0))
    md = compare_results(results_tree, "hmvlm", ["lora"], ["forgetting"], "md")
    assert "| n/a | n/a | none [^1] |" in md and "[^1]: p-value n/a: no replication values" in md


def test_compare_formats_and_errors(tree: Path) -> None:
    md = compare_results(tree, "base", None, None, "md")
    assert "Holm-corrected over the 2 tests" in md and "| t2m | R@3 ↑ | v1 |" in md
    tex = compare_results(tree, "base", None, None, "tex")
    assert "\\toprule" in tex and "\\textbf{-0.017}" in tex and "R@3 $\\uparrow$" in tex
    with pytest.raises(UserError, match="did you mean 'base'"):
        compare_results(tree, "bse", None, None, "md")
    with pytest.raises(UserError, match="unknown compare format"):
        compare_results(tree, "base", None, None, "html")


def test_constant_replications_get_no_spurious_test():
    """FID over one fixed generation set is the same in every replication: no p-value."""
    from hmvlm_bench.reporting.compare import _one
    from hmvlm_bench.results import MetricRecord, ResultFile, Timing

    def rf(model, value):
        return ResultFile(task="t2m", task_version=1, task_hash="h", model=model, fingerprint="f",
                          metrics={"fid": MetricRecord(value=value, ci=0.0, higher_is_better=False,
                                                       n=3, values=[value] * 3)},
                          n_samples=3, seed=0, preset="tiny",
                          timing=Timing(started="a", finished="b", seconds=1.0))

    delta, lo, hi, p, test, note = _one(Path("/nonexistent"), "t2m", "fid", rf("a", 1.0), rf("b", 1.5), 0)
    assert delta == 0.5 and p is None and test == "none" and "identical" in note
    # MM-Dist: the same distances averaged in another batch order differ in the last bits
    noisy = rf("c", 6.777)
    noisy.metrics["fid"].values = [6.777, 6.777 + 8.9e-16, 6.777 - 8.9e-16]
    delta, lo, hi, p, test, note = _one(Path("/nonexistent"), "t2m", "fid", rf("a", 6.770), noisy, 0)
    assert p is None and test == "none"
    # a real spread still gets its Welch test
    spread = rf("d", 6.777)
    spread.metrics["fid"].values = [6.70, 6.78, 6.85]
    assert _one(Path("/nonexistent"), "t2m", "fid", rf("a", 6.770), spread, 0)[4] == "welch-t"


def test_metrics_filter_sets_the_holm_family(results_tree: Path) -> None:
    from hmvlm_bench.errors import UserError

    full = compare_rows(results_tree, "hmvlm", variants=["lora"], tasks=["t2m"])
    only = compare_rows(results_tree, "hmvlm", variants=["lora"], tasks=["t2m"], metrics=["fid"])
    assert {r.metric for r in full} == {"r_precision_top3", "fid", "diversity"}
    assert [r.metric for r in only] == ["fid"]
    fid = next(r for r in full if r.metric == "fid")
    assert only[0].p_value == fid.p_value
    assert only[0].p_holm == pytest.approx(only[0].p_value)  # a family of one: no correction
    with pytest.raises(UserError, match="no result of 'hmvlm' has metric"):
        compare_rows(results_tree, "hmvlm", tasks=["t2m"], metrics=["fdi"])


# ---------------------------------------------------------------- training seeds as the unit
def _seeded(model: str, variant: str, seed: int) -> dict:
    return {"model": {"name": variant, "variant": variant, "args": {"train_seed": str(seed)} if seed else {},
                      "config": {"seed": seed}}}


def _seed_tree(root: Path, base_seeds: dict[int, list[float]], var_seeds: dict[int, list[float]]) -> Path:
    for variant, seeds in (("hmvlm", base_seeds), ("no-zero", var_seeds)):
        for s, vals in seeds.items():
            name = variant if s == 0 else f"{variant}-seed{s}"
            write_result(root, make_result(name, "t2m", {"r_precision_top3": _rec(vals)}, main="r_precision_top3",
                                           config=_seeded(name, variant, s)))
    return root


def test_seeds_are_the_unit_when_replications_differ_but_seeds_do_not(tmp_path: Path) -> None:
    """Every seed of both variants has the same mean; the two variants' evaluation
    replications are tight and offset inside each seed. Replication-level Welch on one seed
    each would call that significant; with the seed as the unit there is no difference."""
    rng = np.random.default_rng(0)
    base = {s: list(0.50 + rng.normal(0, 0.002, 20) + (0.03 if s % 2 else -0.03)) for s in range(3)}
    var = {s: list(0.50 + rng.normal(0, 0.002, 20) + (-0.03 if s % 2 else 0.03)) for s in range(3)}
    tree = _seed_tree(tmp_path / "r", base, var)
    rows = compare_rows(tree, "hmvlm")
    assert len(rows) == 1, [r.variant for r in rows]  # seed replicates are one variant, listed once
    r = rows[0]
    assert r.test == "welch-t-seeds" and r.variant == "no-zero (3 seeds)"
    seeds_b = [float(np.mean(v)) for v in base.values()]
    seeds_v = [float(np.mean(v)) for v in var.values()]
    assert r.p_value == pytest.approx(stats.ttest_ind(seeds_v, seeds_b, equal_var=False).pvalue, rel=1e-9)
    assert not r.significant
    # the same data read one seed per side (the old behaviour) is "significant": that is the trap
    one = compare_rows(tree, "hmvlm", variants=["no-zero"])
    single = _one_seed_only(tmp_path / "single", base[0], var[0])
    assert single.test == "welch-t" and single.significant
    assert one[0].test == "welch-t-seeds"


def _one_seed_only(root: Path, base: list[float], var: list[float]):
    _seed_tree(root, {0: base}, {0: var})
    (row,) = compare_rows(root, "hmvlm")
    return row


def test_seed_difference_is_detected(tmp_path: Path) -> None:
    base = {s: [0.40 + 0.01 * s] * 3 + [0.41 + 0.01 * s] for s in range(3)}
    var = {s: [0.60 + 0.01 * s] * 3 + [0.61 + 0.01 * s] for s in range(3)}
    (r,) = compare_rows(_seed_tree(tmp_path / "r", base, var), "hmvlm")
    assert r.test == "welch-t-seeds" and r.significant and r.delta == pytest.approx(0.2)


def test_no_star_from_redrawn_batches_of_one_generation_set(tmp_path: Path) -> None:
    """issue 14: t2m replications that re-draw batches of one generation set (regenerate:
    false) differ only by the evaluation's shuffle; the table gives their CI, no test."""
    root = tmp_path / "r"
    cfg = {"task": {"regenerate": False}}
    write_result(root, make_result("base", "t2m", {"r_precision_top3": _rec(A)}, main="r_precision_top3", config=cfg))
    write_result(root, make_result("v1", "t2m", {"r_precision_top3": _rec(B)}, main="r_precision_top3", config=cfg))
    (r,) = compare_rows(root, "base")
    assert r.test == "none" and r.p_value is None and not r.significant
    assert r.delta == pytest.approx(np.mean(B) - np.mean(A)) and r.ci_low is not None
    assert "re-draw" in r.note


def test_metric_that_ignores_the_training_seed_gets_no_seed_test(tmp_path: Path) -> None:
    """Reconstruction of a tokenizer trained once repeats one value for every LLM seed:
    copies, not samples. Welch on two constant groups would give p ~ 0 and a star; the
    comparison falls back to the single runs (here replication values of one run each)."""
    base = {s: [0.20, 0.21, 0.19, 0.20] for s in range(3)}  # the same record for every seed
    var = {s: [0.21, 0.20, 0.22, 0.20] for s in range(3)}
    (r,) = compare_rows(_seed_tree(tmp_path / "r", base, var), "hmvlm")
    assert r.test != "welch-t-seeds"
    assert r.p_value is None or r.p_value > 0.05
