"""The view model every report format renders: models x tasks x metrics from result files,
with directions, formats, best-of-column and the published blocks that may (rarely) join.

Renderers (Markdown, HTML, LaTeX, CSV) only format what this module decides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hmvlm_bench.reporting.spec import (ARROWS, LeaderboardSpec, MetricDisplay, PublishedBlock,
                                        TaskDisplay, better_from_flag, format_number, load_published,
                                        load_spec)
from hmvlm_bench.reporting.comparable import require_comparable
from hmvlm_bench.results import MetricRecord, ResultFile, iter_results

# A measured result may be ranked with published rows only on the official data+evaluator.
OFFICIAL_DATASET = "humanml3d"
OFFICIAL_EVALUATOR = "guo-t2m"


@dataclass
class TaskBoard:
    display: TaskDisplay
    models: list[str]
    cells: dict[tuple[str, str], MetricRecord]  # (model, metric) -> record
    results: dict[str, ResultFile]  # model -> result
    best: dict[str, set[str]] = field(default_factory=dict)  # metric -> best measured models
    # with published rows when comparable (same data+evaluator); else equal to `best`
    best_with_published: dict[str, set[str]] = field(default_factory=dict)
    real: dict[str, float] = field(default_factory=dict)  # metric -> reference value
    published: list[PublishedBlock] = field(default_factory=list)
    published_comparable: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.display.name

    def metric(self, name: str) -> MetricDisplay:
        for m in self.display.metrics:
            if m.name == name:
                return m
        raise KeyError(name)

    def cell(self, model: str, metric: str) -> MetricRecord | None:
        return self.cells.get((model, metric))

    def fmt(self, metric: str, value: float | None) -> str:
        return format_number(value, self.metric(metric).format)

    def replications(self, model: str, metric: str | None = None) -> int | None:
        rec = self.cell(model, metric or self.display.main_metric)
        if rec is None:
            return None
        if rec.values:
            return len(rec.values)
        return rec.n


@dataclass
class Board:
    spec: LeaderboardSpec
    tasks: list[TaskBoard]
    models: list[str]
    reference_models: list[str]
    results: list[ResultFile]
    published: list[PublishedBlock]
    results_dir: Path
    experiment: dict[str, Any] | None = None

    def task(self, name: str) -> TaskBoard:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

    def main_cell(self, model: str, task: str) -> MetricRecord | None:
        t = self.task(task)
        return t.cell(model, t.display.main_metric)


def arrow(better: str | None) -> str:
    return ARROWS.get(better or "", "")


def _task_display(task: str, results: list[ResultFile], spec: LeaderboardSpec) -> TaskDisplay:
    """Spec entry (if any) restricted to metrics the results hold, plus any extra metrics
    from the files' own metadata; unknown tasks come entirely from the files."""
    present: dict[str, MetricRecord] = {}
    for r in results:
        for k, v in r.metrics.items():
            present.setdefault(k, v)
    known = spec.tasks.get(task)
    metrics: list[MetricDisplay] = []
    if known is not None:
        for m in known.metrics:
            if m.name in present:
                better = m.better or better_from_flag(present[m.name].higher_is_better)
                metrics.append(MetricDisplay(m.name, m.display, better, m.format))
    listed = {m.name for m in metrics}
    known_by_name = {m.name: m for m in known.metrics} if known else {}
    for name in sorted(present):
        if name in listed:
            continue
        better = better_from_flag(present[name].higher_is_better)
        parent = None  # e.g. mse_left_arm -> "Recon. MSE (left arm)"
        for cut in range(name.count("_"), 0, -1):
            base, suffix = "_".join(name.split("_")[:cut]), "_".join(name.split("_")[cut:])
            if base in known_by_name:
                parent = known_by_name[base]
                break
        if parent is not None:
            metrics.append(MetricDisplay(name, f"{parent.display} ({suffix.replace('_', ' ')})",
                                         better, parent.format))
        else:
            metrics.append(MetricDisplay(name, name, better))
    names = [m.name for m in metrics]
    main = ""
    for cand in ([known.main_metric] if known else []) + [r.main_metric for r in results]:
        if cand and cand in names:
            main = cand
            break
    if not main and names:
        main = names[0]
    # main metric first so every format reads it in the same place
    metrics.sort(key=lambda m: m.name != main)
    return TaskDisplay(task, known.display if known else task, main, tuple(metrics))


def result_protocol(r: ResultFile) -> str:
    """The evaluation protocol a result was computed under (tasks/protocols.py); results
    from before named protocols, and tasks without any, read as 'bench'."""
    proto = (r.extra or {}).get("eval_protocol")
    if proto is None:
        task_cfg = (r.config or {}).get("task") or {}
        proto = task_cfg.get("protocol") if isinstance(task_cfg, dict) else None
    return str(proto or "bench")


def _column_key(r: ResultFile, mixed: set[str]) -> str:
    """Task column of a result: the task name; where results of one task come under
    several protocols (`mixed`), each protocol gets its own column (`t2m@bench`,
    `t2m@guo`), so two protocols never share one."""
    return f"{r.task}@{result_protocol(r)}" if r.task in mixed else r.task


def _is_official(r: ResultFile) -> bool:
    ds = str((r.dataset or {}).get("name", "")).lower()
    ev = str((r.evaluator or {}).get("name", "")).lower()
    # published HumanML3D rows follow Guo et al.'s protocol: only a 'guo' result ranks with them
    return ds == OFFICIAL_DATASET and ev == OFFICIAL_EVALUATOR and result_protocol(r) == "guo"


def _rank_key(fmt: str, v: float) -> float:
    """Values that print the same tie (both bold)."""
    try:
        return float(format_number(v, fmt))
    except ValueError:
        return v


def _rank(m: MetricDisplay, cands: dict[str, float], real: float | None) -> set[str] | None:
    if len(cands) < 2:  # one row is not a ranking
        return None
    if m.better == "higher":
        keyed = {k: -_rank_key(m.format, v) for k, v in cands.items()}
    elif m.better == "lower":
        keyed = {k: _rank_key(m.format, v) for k, v in cands.items()}
    elif m.better == "closer_to_real" and real is not None:
        r = _rank_key(m.format, real)
        keyed = {k: abs(_rank_key(m.format, v) - r) for k, v in cands.items()}
    else:
        return None
    top = min(keyed.values())
    return {k for k, v in keyed.items() if abs(v - top) <= 1e-12}


def _compute_best(tb: TaskBoard, reference: set[str], floor: set[str] = frozenset()) -> None:
    for m in tb.display.metrics:
        for r in tb.models:
            rec = tb.cell(r, m.name)
            if r in reference and rec is not None and rec.value is not None:
                tb.real[m.name] = float(rec.value)
                break
        cands = {mod: tb.cell(mod, m.name).value for mod in tb.models
                 if mod not in reference and mod not in floor and tb.cell(mod, m.name) is not None
                 and tb.cell(mod, m.name).value is not None}
        pub = dict(cands)
        real_pub = tb.real.get(m.name)
        if tb.published_comparable:
            for block in tb.published:
                for row in block.rows:
                    if m.name not in row.metrics:
                        continue
                    if row.reference:
                        real_pub = row.metrics[m.name] if real_pub is None else real_pub
                    else:
                        pub[f"{row.model} (published)"] = row.metrics[m.name]
        if m.better == "closer_to_real" and m.name not in tb.real and len(cands) >= 2:
            tb.notes.append(f"{m.display}: no reference ({', '.join(sorted(reference))}) row, "
                            "so closer-to-real is not ranked")
        best = _rank(m, cands, tb.real.get(m.name))
        if best:
            tb.best[m.name] = best
        best_pub = _rank(m, pub, real_pub) if tb.published_comparable else best
        if best_pub:
            tb.best_with_published[m.name] = best_pub


QUIET_IF_ZERO = ("failure_rate",)  # a column of zeros is noise: one note says it instead


def _drop_all_zero(disp: TaskDisplay, recs: list[MetricRecord | None]) -> tuple[TaskDisplay, str | None]:
    """Leave out a QUIET_IF_ZERO metric whose every value is 0 (and say so once)."""
    from dataclasses import replace

    names = {m.name for m in disp.metrics if m.name in QUIET_IF_ZERO and m.name != disp.main_metric}
    if not names or any(r is not None and r.value not in (0, 0.0, None) for r in recs):
        return disp, None
    return (replace(disp, metrics=tuple(m for m in disp.metrics if m.name not in names)),
            "no sample failed for any model (failure rate 0 everywhere; column left out)")


def build_board(results_dir: Path, spec_path: Path | None = None,
                published_path: Path | None = None, registries: Any = None) -> Board:
    """`registries`: whose tasks' displays to use (default: the installed plugins; pass
    the run's, `--include-path` folders included, so their tasks keep their names)."""
    results_dir = Path(results_dir)
    results = iter_results(results_dir)
    spec = load_spec(spec_path, registries)
    published = load_published(published_path)
    reference = set(spec.reference_models)
    by_task: dict[str, list[ResultFile]] = {}
    base: dict[str, str] = {}
    protocols: dict[str, set[str]] = {}
    for r in results:
        protocols.setdefault(r.task, set()).add(result_protocol(r))
    mixed = {t for t, ps in protocols.items() if len(ps) > 1}
    for r in results:
        key = _column_key(r, mixed)
        by_task.setdefault(key, []).append(r)
        base[key] = r.task
    order = [k for t in spec.tasks for k in sorted(by_task) if base[k] == t] + sorted(
        k for k in by_task if base[k] not in spec.tasks)
    all_models = sorted({r.model for r in results})
    models = [m for m in all_models if m in reference] + [m for m in all_models if m not in reference]
    boards = []
    for tname in order:
        rs = by_task[tname]
        disp = _task_display(base[tname], rs, spec)
        if tname != base[tname]:
            from dataclasses import replace

            proto = tname.split("@", 1)[1]
            disp = replace(disp, name=tname, display=f"{disp.display} [{proto} protocol]")
        require_comparable(rs, tname, "rank results in one column")
        cells = {(r.model, k): v for r in rs for k, v in r.metrics.items()}
        disp, quiet_note = _drop_all_zero(disp, [r.metrics.get(m.name) for r in rs for m in disp.metrics
                                                 if m.name in QUIET_IF_ZERO])
        blocks = [b for b in published if b.task == base[tname]]
        tb = TaskBoard(display=disp, models=[m for m in models if any(r.model == m for r in rs)],
                       cells=cells, results={r.model: r for r in rs}, published=blocks,
                       published_comparable=bool(blocks) and all(_is_official(r) for r in rs))
        _compute_best(tb, reference, set(spec.floor_models))
        if quiet_note:
            tb.notes.append(quiet_note)
        boards.append(tb)
    experiment = None
    exp_file = results_dir / "experiment.json"
    if exp_file.is_file():
        import json

        try:
            experiment = json.loads(exp_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            experiment = None
    return Board(spec=spec, tasks=boards, models=models, reference_models=sorted(reference),
                 results=results, published=published, results_dir=results_dir,
                 experiment=experiment)


# ------------------------------------------------------------------------ provenance


def _short(h: Any, n: int = 12) -> str:
    return str(h)[:n] if h else "—"


def dataset_label(r: ResultFile) -> str:
    d = r.dataset or {}
    name = d.get("name", "?")
    h = d.get("hash") or d.get("fingerprint")
    return f"{name} ({_short(h)})" if h else str(name)


def evaluator_label(r: ResultFile) -> str:
    e = r.evaluator or {}
    if not e:
        return "—"
    name = e.get("name", "?")
    h = e.get("fingerprint") or e.get("hash")
    return f"{name} ({_short(h)})" if h else str(name)


def evaluator_hash(r: ResultFile) -> str:
    e = r.evaluator or {}
    return str(e.get("fingerprint") or e.get("hash") or "")


def recorded_command(r: ResultFile) -> str | None:
    cfg = r.config or {}
    for holder in (cfg, cfg.get("run") or {}):
        cmd = holder.get("command") if isinstance(holder, dict) else None
        if cmd:
            return " ".join(cmd) if isinstance(cmd, list) else str(cmd)
    return None


def provenance_rows(board: Board) -> list[dict[str, str]]:
    rows = []
    for tb in board.tasks:
        for model in tb.models:
            r = tb.results[model]
            reps = tb.replications(model)
            rows.append({
                "model": model, "task": tb.name, "task_version": f"v{r.task_version}",
                "dataset": dataset_label(r), "evaluator": evaluator_label(r),
                "n": str(r.n_samples), "replications": str(reps) if reps else "—",
                "preset": r.preset, "seed": str(r.seed), "git": _short(r.git_hash),
                "fingerprint": _short(r.fingerprint), "finished": r.timing.finished,
            })
    return rows


def version_sets(board: Board) -> list[str]:
    """Distinct package-version sets across results (one line each)."""
    seen: list[str] = []
    for r in board.results:
        line = ", ".join(f"{k} {v}" for k, v in sorted(r.versions.items()))
        if line and line not in seen:
            seen.append(line)
    return seen


def commands(board: Board) -> list[str]:
    out: list[str] = []
    for r in board.results:
        c = recorded_command(r)
        if c and c not in out:
            out.append(c)
    return out
