"""The leaderboard display spec and published numbers (`published.yaml`).

Both are a display layer over result files: names, directions, formats. A metric's label,
direction and format are stated once, by its task (`MetricSpec`, `Task.display_name`);
`leaderboard.yaml` holds only overrides, the reference/floor rows and the plot wiring. A
task or metric neither knows still renders from the result file's own metadata.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from hmvlm_bench.errors import UserError

Better = Literal["higher", "lower", "closer_to_real"]
BETTER_VALUES: tuple[str, ...] = ("higher", "lower", "closer_to_real")
ARROWS: dict[str, str] = {"higher": "↑", "lower": "↓", "closer_to_real": "→real"}


@dataclass(frozen=True)
class MetricDisplay:
    name: str
    display: str
    better: Better | None
    format: str = ""  # Python format spec; "" = automatic


@dataclass(frozen=True)
class TaskDisplay:
    name: str
    display: str
    main_metric: str
    metrics: tuple[MetricDisplay, ...]


@dataclass(frozen=True)
class LeaderboardSpec:
    tasks: dict[str, TaskDisplay]
    reference_models: tuple[str, ...] = ("ground-truth",)
    plots: dict[str, Any] = field(default_factory=dict)
    # floor rows (random): shown for scale, never bolded (random draws real motions, so its
    # FID and caption scores can "win" without any modelling)
    floor_models: tuple[str, ...] = ("random",)


@dataclass(frozen=True)
class PublishedRow:
    model: str
    metrics: dict[str, float]
    reference: bool = False


@dataclass(frozen=True)
class PublishedBlock:
    id: str
    title: str
    task: str
    dataset: str
    evaluator: str
    source: str
    rows: tuple[PublishedRow, ...]
    display: dict[str, str] = field(default_factory=dict)
    note: str = ""


def better_from_flag(higher_is_better: bool | None) -> Better:
    """Result files say True/False/None; None means closer to the real data is better."""
    if higher_is_better is None:
        return "closer_to_real"
    return "higher" if higher_is_better else "lower"


def _read_yaml(path: Path | None, default_name: str) -> dict[str, Any]:
    if path is None:
        text = resources.files("hmvlm_bench.reporting").joinpath(default_name).read_text("utf-8")
        src = default_name
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc}") from exc
        src = str(path)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{src} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise UserError(f"{src}: expected a mapping at the top level")
    return raw


def task_displays(registries: Any = None) -> dict[str, TaskDisplay]:
    """Each registered task's columns, from the task itself: its `display_name`,
    `main_metric` and the `MetricSpec`s marked `column` (label, direction, format), in
    declaration order; tasks in registration order. A task whose plugin fails to load is left out: its results still
    render from their own metadata."""
    if registries is None:
        from hmvlm_bench.plugins import load_registries

        registries = load_registries()
    out: dict[str, TaskDisplay] = {}
    for name in registries.tasks.registered():
        if registries.tasks.is_group(name):
            continue
        try:
            cls = registries.tasks.get(name)
        except Exception:  # noqa: BLE001 - a broken plugin must not stop a report
            continue
        metrics = tuple(MetricDisplay(m.name, m.label, better_from_flag(m.higher_is_better), m.format)
                        for m in getattr(cls, "metrics", ()) if getattr(m, "column", True))
        out[name] = TaskDisplay(name=name, display=getattr(cls, "display_name", "") or name,
                                main_metric=getattr(cls, "main_metric", ""), metrics=metrics)
    return out


def _override(tname: str, base: TaskDisplay | None, t: dict[str, Any]) -> TaskDisplay:
    """A `tasks:` entry of the spec file over the task's own display: fields given win,
    metrics are matched by name (an unknown one is appended)."""
    metrics = list(base.metrics) if base else []
    index = {m.name: i for i, m in enumerate(metrics)}
    for m in t.get("metrics") or []:
        better = m.get("better")
        if better is not None and better not in BETTER_VALUES:
            raise UserError(f"leaderboard spec: task {tname} metric {m.get('name')}: "
                            f"better must be one of {', '.join(BETTER_VALUES)}, got {better!r}")
        old = metrics[index[m["name"]]] if m["name"] in index else None
        new = MetricDisplay(name=m["name"], display=m.get("display", old.display if old else m["name"]),
                            better=better if better is not None else (old.better if old else None),
                            format=str(m.get("format", old.format if old else "")))
        if old is None:
            index[m["name"]] = len(metrics)
            metrics.append(new)
        else:
            metrics[index[m["name"]]] = new
    return TaskDisplay(name=tname, display=t.get("display", base.display if base else tname),
                       main_metric=t.get("main_metric", base.main_metric if base else ""), metrics=tuple(metrics))


def load_spec(path: Path | None = None, registries: Any = None) -> LeaderboardSpec:
    """The registered tasks' own displays (`task_displays`) with the spec file's overrides."""
    raw = _read_yaml(path, "leaderboard.yaml")
    tasks = task_displays(registries)
    for tname, t in (raw.get("tasks") or {}).items():
        tasks[tname] = _override(tname, tasks.get(tname), t or {})
    return LeaderboardSpec(tasks=tasks,
                           reference_models=tuple(raw.get("reference_models") or ("ground-truth",)),
                           plots=dict(raw.get("plots") or {}),
                           floor_models=tuple(raw.get("floor_models") or ()))


def load_published(path: Path | None = None) -> list[PublishedBlock]:
    raw = _read_yaml(path, "published.yaml")
    blocks = []
    for b in raw.get("blocks") or []:
        for key in ("id", "title", "task", "dataset", "evaluator", "source", "rows"):
            if key not in b:
                raise UserError(f"published numbers: block {b.get('id', '?')} lacks '{key}'")
        rows = tuple(PublishedRow(model=r["model"], reference=bool(r.get("reference", False)),
                                  metrics={k: float(v) for k, v in r["metrics"].items()})
                     for r in b["rows"])
        blocks.append(PublishedBlock(id=b["id"], title=b["title"], task=b["task"],
                                     dataset=b["dataset"], evaluator=b["evaluator"],
                                     source=b["source"], rows=rows,
                                     display=dict(b.get("display") or {}), note=b.get("note", "")))
    return blocks


def format_number(value: float | None, fmt: str = "") -> str:
    if value is None:
        return "—"
    if fmt:
        return format(value, fmt)
    a = abs(value)  # automatic: 3 decimals for scores, fewer for large numbers
    if a >= 1000:
        return f"{value:.0f}"
    if a >= 100:
        return f"{value:.1f}"
    if a != 0 and a < 0.001:
        return f"{value:.2e}"
    return f"{value:.3f}"
