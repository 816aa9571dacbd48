"""Ablation tables: per-metric delta (variant minus baseline) with a 95% CI and a p-value.

Test choice per (task, metric, variant), best evidence first:
0. **training seeds as the unit** when both sides were trained with >= 2 seeds (result
   rows of one model and config that differ only in `train_seed`): Welch's t-test over the
   per-seed values (each seed's metric value, i.e. the mean over its replications). The
   seed is what an ablation claims about (another training run), so re-drawn evaluation
   batches of one generation set never make a difference significant here;
1. Welch's t-test over per-replication values (`metrics[m].values`) when both sides have >= 2
   and the replications regenerated (one training run each: generation + evaluation noise,
   and the table says so); replications that only re-draw batches of one generation set
   get their CI but no test, so they can never be starred;
2. paired bootstrap over per-sample values (samples JSONL field named like the metric,
   matched by sample id) when both sides have them;
3. otherwise no p-value, and the table says why.
Holm's step-down correction runs across every test in the table (one family).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hmvlm_bench.errors import UserError, did_you_mean
from hmvlm_bench.metrics.stats import (bootstrap_ci, holm_correction, paired_bootstrap_test,
                                       welch_t_test)
from hmvlm_bench.reporting.board import arrow
from hmvlm_bench.reporting.comparable import require_comparable
from hmvlm_bench.reporting.latex import tex_escape
from hmvlm_bench.reporting.spec import better_from_flag, format_number, load_spec
from hmvlm_bench.results import ResultFile, iter_results, load_samples

ALPHA = 0.05
ID_KEYS = ("sample_id", "id")


@dataclass
class ComparisonRow:
    task: str
    metric: str
    display: str
    better: str
    fmt: str
    variant: str
    baseline_value: float | None
    variant_value: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_holm: float | None
    test: str  # welch-t | paired-bootstrap | none
    note: str = ""

    @property
    def significant(self) -> bool:
        return self.p_holm is not None and self.p_holm <= ALPHA

    @property
    def improved(self) -> bool | None:
        """Whether the variant is better than the baseline on this metric (None: unknown)."""
        if self.delta is None or self.delta == 0 or self.better == "closer_to_real":
            return None
        return (self.delta > 0) == (self.better == "higher")


def welch_ci(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """CI of mean(a) - mean(b) with the Welch-Satterthwaite degrees of freedom."""
    from scipy import stats

    x, y = np.asarray(a, float), np.asarray(b, float)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    diff = float(x.mean() - y.mean())
    se = math.sqrt(va + vb)
    if se == 0.0:
        return diff, diff
    df = (va + vb) ** 2 / (va ** 2 / (x.size - 1) + vb ** 2 / (y.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return diff - half, diff + half


def _per_sample(results_dir: Path, model: str, task: str, metric: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in load_samples(results_dir, model, task):
        sid = next((s[k] for k in ID_KEYS if k in s), None)
        v = s.get(metric)
        if sid is not None and isinstance(v, (int, float)) and not isinstance(v, bool) \
                and math.isfinite(v):
            out[str(sid)] = float(v)
    return out


def _constant(values: list[float], rel: float = 1e-9) -> bool:
    """All replications equal up to float rounding (relative spread below `rel`)."""
    return float(np.ptp(values)) <= rel * max(1.0, float(np.max(np.abs(values))))


def train_seed(r: ResultFile) -> int:
    """The training seed of a result's model (`train_seed` model arg; 0 when not given)."""
    model = r.config.get("model", {}) if isinstance(r.config, dict) else {}
    cfg = model.get("config") if isinstance(model, dict) else None
    if isinstance(cfg, dict) and isinstance(cfg.get("seed"), int):
        return int(cfg["seed"])
    args = model.get("args", {}) if isinstance(model, dict) else {}
    try:
        return int(args.get("train_seed", 0))
    except (TypeError, ValueError):
        return 0


def seed_group(r: ResultFile) -> str:
    """Which variant a result row replicates: its model name and arguments without the
    training seed (`hmvlm` and `hmvlm` with train_seed=1 are one variant, two seeds)."""
    model = r.config.get("model", {}) if isinstance(r.config, dict) else {}
    if not isinstance(model, dict) or "name" not in model:
        return r.model
    args = {k: v for k, v in (model.get("args") or {}).items() if k != "train_seed"}
    name = str(model.get("variant") or model["name"])
    return name + "".join(f",{k}={v}" for k, v in sorted(args.items()))


def regenerated(r: ResultFile) -> bool:
    """Whether a result's replications each generated anew (else they re-draw evaluation
    batches of one generation set). Rows without that setting (non-generative metrics,
    older files) count as independent replications."""
    task = r.config.get("task", {}) if isinstance(r.config, dict) else {}
    value = task.get("regenerate") if isinstance(task, dict) else None
    return value is None or bool(value)


def seed_values(rows: Sequence[ResultFile], metric: str) -> dict[int, float]:
    """{training seed: metric value} over result rows of one variant and task."""
    out: dict[int, float] = {}
    for r in rows:
        m = r.metrics.get(metric)
        if m is not None and m.value is not None:
            out[train_seed(r)] = float(m.value)
    return out


def _seeds(base_rows: Sequence[ResultFile], var_rows: Sequence[ResultFile], metric: str
           ) -> tuple[float | None, float | None, float | None, float | None, str, str] | None:
    """Welch over training seeds when both sides have >= 2 seeds; None otherwise."""
    sb, sv = seed_values(base_rows, metric), seed_values(var_rows, metric)
    if len(sb) < 2 or len(sv) < 2:
        return None
    a, b = list(sv.values()), list(sb.values())
    if _constant(a) and _constant(b) and _constant(a + b):
        return 0.0, 0.0, 0.0, None, "none", "equal for every training seed: no test"
    if _constant(a) and _constant(b):
        # the metric does not move with the training seed (a part trained once, e.g. the
        # tokenizer under reconstruction): the seeds are copies of one value, not samples,
        # and Welch on them would give p ~ 0. Compare the single runs instead.
        return None
    t = welch_t_test(a, b)
    lo, hi = welch_ci(a, b)
    return t.diff, lo, hi, t.p_value, "welch-t-seeds", f"{len(sv)} vs {len(sb)} training seeds"


def _one(results_dir: Path, task: str, metric: str, base: ResultFile, var: ResultFile,
         seed: int, base_rows: Sequence[ResultFile] = (), var_rows: Sequence[ResultFile] = ()
         ) -> tuple[float | None, float | None, float | None, float | None, str, str]:
    """(delta, ci_low, ci_high, p, test, note) for one metric of one variant; `base_rows` /
    `var_rows`: every training seed of each side (the seed is then the unit)."""
    by_seed = _seeds(base_rows, var_rows, metric)
    if by_seed is not None:
        return by_seed
    rb, rv = base.metrics[metric], var.metrics[metric]
    # Replications that re-draw batches of one fixed generation set leave set-level
    # metrics (FID, MM-Dist over all samples) identical in every replication: a Welch
    # test on constant values would report a spurious p ~ 0, so such metrics get none.
    # "Identical" up to float summation order: MM-Dist averages the same distances in
    # another batch order per replication and differs in the last bits.
    constant = bool(rb.values and rv.values and _constant(rb.values) and _constant(rv.values))
    if constant:
        delta = None if rb.value is None or rv.value is None else rv.value - rb.value
        return (delta, None, None, None, "none",
                "identical in every replication (set-level metric of one generation set): no test")
    if rb.values and rv.values and len(rb.values) >= 2 and len(rv.values) >= 2:
        lo, hi = welch_ci(rv.values, rb.values)
        if not (regenerated(base) and regenerated(var)):
            # replications that only re-draw batches of one generation set measure the
            # evaluation's shuffle, not the model: a CI for reading, never a test or a star
            diff = float(np.mean(rv.values) - np.mean(rb.values))
            return (diff, lo, hi, None, "none",
                    "one generation set per side, replications only re-draw its batches: the CI is "
                    "evaluation noise, no test (train >= 2 seeds per variant, or regenerate per replication)")
        t = welch_t_test(rv.values, rb.values)
        return (t.diff, lo, hi, t.p_value, "welch-t",
                f"{len(rv.values)} vs {len(rb.values)} regenerated replications of one training run each "
                f"(generation and evaluation noise, not seed-to-seed variation)")
    sb = _per_sample(results_dir, base.model, task, metric)
    sv = _per_sample(results_dir, var.model, task, metric)
    common = sorted(set(sb) & set(sv))
    if len(common) >= 2:
        a = np.array([sv[k] for k in common])
        b = np.array([sb[k] for k in common])
        t = paired_bootstrap_test(a, b, rng=seed)
        ci = bootstrap_ci(a - b, rng=seed)
        return t.diff, ci.low, ci.high, t.p_value, "paired-bootstrap", f"{len(common)} paired samples"
    delta = None if rb.value is None or rv.value is None else rv.value - rb.value
    if delta is not None and rb.ci is not None and rv.ci is not None:
        half = math.hypot(rb.ci, rv.ci)  # assumes independent estimates
        return (delta, delta - half, delta + half, None, "none",
                "no replication values or per-sample scores: CI from the two CIs, no p-value")
    return delta, None, None, None, "none", "no replication values, per-sample scores or CIs"


def compare_rows(results_dir: Path, baseline: str, variants: list[str] | None = None,
                 tasks: list[str] | None = None, seed: int = 0,
                 metrics: list[str] | None = None, registries: Any = None) -> list[ComparisonRow]:
    """One row per (task, variant, metric); `metrics` keeps only those (the Holm family is
    then the tests of the table you report, not of every diagnostic metric)."""
    results_dir = Path(results_dir)
    results = iter_results(results_dir)
    spec = load_spec(registries=registries)
    models = sorted({r.model for r in results})
    if baseline not in models:
        raise UserError(f"baseline '{baseline}' has no results in {results_dir}"
                        + did_you_mean(baseline, models) + f" (models: {', '.join(models) or 'none'})")
    if variants:
        for v in variants:
            if v not in models:
                raise UserError(f"variant '{v}' has no results in {results_dir}" + did_you_mean(v, models))
    else:
        variants = [m for m in models if m != baseline and m not in spec.reference_models]
    by = {(r.model, r.task): r for r in results}
    # training-seed replicates: rows of one variant (model + args but the seed) form a group;
    # the group, not the row, is compared, and each group is listed once
    group_of = {r.model: seed_group(r) for r in results}
    members: dict[str, list[str]] = {}
    for m in models:
        members.setdefault(group_of[m], []).append(m)
    base_group = group_of[baseline]
    shown: list[str] = []
    for v in variants:
        g = group_of[v]
        if g != base_group and all(group_of[x] != g for x in shown):
            shown.append(v)
    variants = shown
    base_tasks = [r.task for r in results if r.model == baseline]
    if tasks:
        for t in tasks:
            if t not in base_tasks:
                raise UserError(f"baseline '{baseline}' has no result for task '{t}'"
                                + did_you_mean(t, base_tasks))
    order = {t: i for i, t in enumerate(spec.tasks)}
    task_list = sorted(tasks or base_tasks, key=lambda t: (order.get(t, len(order)), t))
    if metrics:
        have = {m for t in task_list for m in by[(baseline, t)].metrics}
        unknown = [m for m in metrics if m not in have]
        if unknown:
            raise UserError(f"no result of '{baseline}' has metric(s) {', '.join(unknown)}"
                            + did_you_mean(unknown[0], sorted(have)))
    rows: list[ComparisonRow] = []
    for task in task_list:
        base = by[(baseline, task)]
        tspec = spec.tasks.get(task)
        known = {m.name: m for m in tspec.metrics} if tspec else {}
        metric_order = [m for m in known if m in base.metrics] + sorted(m for m in base.metrics if m not in known)
        main = (tspec.main_metric if tspec and tspec.main_metric in base.metrics else base.main_metric)
        metric_order.sort(key=lambda m: m != main)
        # every row a test of this task may touch (each side's training seeds included)
        require_comparable([by[(m, task)] for g in [base_group, *(group_of[v] for v in variants)]
                            for m in members[g] if (m, task) in by], task,
                           f"compare with baseline '{baseline}'")
        for variant in variants:
            var = by.get((variant, task))
            if var is None:
                continue
            for metric in metric_order:
                if metric not in var.metrics or (metrics and metric not in metrics):
                    continue
                md = known.get(metric)
                better = (md.better if md and md.better else
                          better_from_flag(base.metrics[metric].higher_is_better))
                base_rows = [by[(m, task)] for m in members[base_group] if (m, task) in by]
                var_rows = [by[(m, task)] for m in members[group_of[variant]] if (m, task) in by]
                delta, lo, hi, p, test, note = _one(results_dir, task, metric, base, var, seed,
                                                    base_rows, var_rows)
                b_val, v_val, label = base.metrics[metric].value, var.metrics[metric].value, variant
                if test.endswith("seeds") or note.startswith("equal for every training seed"):
                    sb, sv = seed_values(base_rows, metric), seed_values(var_rows, metric)
                    b_val, v_val = float(np.mean(list(sb.values()))), float(np.mean(list(sv.values())))
                    label = f"{group_of[variant]} ({len(sv)} seeds)"
                rows.append(ComparisonRow(
                    task=task, metric=metric, display=md.display if md else metric, better=better,
                    fmt=md.format if md else "", variant=label,
                    baseline_value=b_val, variant_value=v_val,
                    delta=delta, ci_low=lo, ci_high=hi, p_value=p, p_holm=None, test=test, note=note))
    tested = [i for i, r in enumerate(rows) if r.p_value is not None]
    if tested:
        adj = holm_correction([rows[i].p_value for i in tested])
        for i, a in zip(tested, adj):
            rows[i].p_holm = float(a)
    return rows


def _p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _signed(v: float | None, fmt: str) -> str:
    if v is None:
        return "—"
    s = format_number(v, fmt)
    return s if s.startswith("-") else "+" + s


def _verdict(r: ComparisonRow) -> str:
    if r.improved is None:
        return ""
    return ("better" if r.improved else "worse") + ("*" if r.significant else "")


def render_compare_markdown(rows: list[ComparisonRow], baseline: str) -> str:
    header = ["task", "metric", "variant", baseline, "variant value", "Δ (variant − baseline)",
              "95% CI of Δ", "p", "p (Holm)", "test", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join([":---"] * 3 + ["---:"] * 6 + [":---"] * 2) + " |"]
    notes: list[str] = []
    for r in rows:
        ci = "—" if r.ci_low is None else f"[{format_number(r.ci_low, r.fmt)}, {format_number(r.ci_high, r.fmt)}]"
        test = r.test
        if r.p_value is None:
            if r.note not in notes:
                notes.append(r.note)
            test += f" [^{notes.index(r.note) + 1}]"
        lines.append("| " + " | ".join([
            r.task, f"{r.display} {arrow(r.better)}".strip(), r.variant,
            format_number(r.baseline_value, r.fmt), format_number(r.variant_value, r.fmt),
            _signed(r.delta, r.fmt), ci, _p(r.p_value), _p(r.p_holm), test, _verdict(r)]) + " |")
    n_tests = sum(r.p_value is not None for r in rows)
    out = [f"## Ablation vs `{baseline}`", "",
           f"Δ = variant − baseline (means over training seeds where a variant has several). p: "
           f"Welch t-test over training seeds (`welch-t-seeds`, the seed as the unit), else over "
           f"evaluation replications of one training run (`welch-t`: evaluation noise only), or paired "
           f"bootstrap over samples; Holm-corrected over the {n_tests} tests in this table; * = significant at "
           f"{ALPHA} after correction. ↑/↓ give the better direction.", "", *lines]
    if notes:
        out += [""] + [f"[^{i + 1}]: p-value n/a: {n}." for i, n in enumerate(notes)]
    if not rows:
        out += ["", "No metric shared by the baseline and a variant."]
    return "\n".join(out) + "\n"


def render_compare_latex(rows: list[ComparisonRow], baseline: str) -> str:
    lines = ["% requires \\usepackage{booktabs}", "\\begin{table}[t]", "\\centering", "\\small",
             "\\begin{tabular}{lllrrrrrr}", "\\toprule",
             f"Task & Metric & Variant & {tex_escape(baseline)} & Variant & $\\Delta$ & 95\\% CI & $p$ & $p_\\mathrm{{Holm}}$ \\\\",
             "\\midrule"]
    prev = None
    for r in rows:
        if prev is not None and r.task != prev:
            lines.append("\\midrule")
        prev = r.task
        delta = _signed(r.delta, r.fmt)
        if r.significant:
            delta = f"\\textbf{{{delta}}}"
        ci = "--" if r.ci_low is None else f"[{format_number(r.ci_low, r.fmt)}, {format_number(r.ci_high, r.fmt)}]"
        p = _p(r.p_value).replace("<", "$<$")
        ph = _p(r.p_holm).replace("<", "$<$")
        lines.append(" & ".join([tex_escape(r.task), tex_escape(f"{r.display} {arrow(r.better)}".strip()),
                                 tex_escape(r.variant), format_number(r.baseline_value, r.fmt),
                                 format_number(r.variant_value, r.fmt), delta, ci, p, ph]) + " \\\\")
    n_tests = sum(r.p_value is not None for r in rows)
    lines += ["\\bottomrule", "\\end{tabular}",
              f"\\caption{{Ablation against {tex_escape(baseline)}: $\\Delta$ = variant $-$ baseline with its 95\\% CI; "
              f"$p$ from Welch's t-test over replications or a paired bootstrap over samples, "
              f"Holm-corrected over {n_tests} tests; bold: significant at {ALPHA}.}}",
              "\\end{table}"]
    return "\n".join(lines) + "\n"


def compare_results(results_dir: Path, baseline: str, variants: list[str] | None,
                    tasks: list[str] | None, fmt: str, metrics: list[str] | None = None,
                    registries: Any = None) -> str:
    """The ablation table as Markdown (`md`) or LaTeX (`tex`); task and metric displays
    from `registries` (default: the installed plugins; give `--include-path` tasks')."""
    if fmt not in ("md", "tex"):
        raise UserError(f"unknown compare format '{fmt}' (md | tex)")
    rows = compare_rows(Path(results_dir), baseline, variants, tasks, metrics=metrics,
                        registries=registries)
    if fmt == "md":
        return render_compare_markdown(rows, baseline)
    return render_compare_latex(rows, baseline)


__all__ = ["compare_results", "compare_rows", "ComparisonRow", "seed_group", "seed_values", "train_seed", "welch_ci",
           "render_compare_markdown", "render_compare_latex"]
