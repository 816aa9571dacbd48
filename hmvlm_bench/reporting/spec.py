"""The leaderboard display spec (`leaderboard.yaml`) and published numbers (`published.yaml`).

Both are a display layer over result files: names, directions, formats. A task or metric the
spec does not know still renders from the result file's own metadata.
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


def load_spec(path: Path | None = None) -> LeaderboardSpec:
    raw = _read_yaml(path, "leaderboard.yaml")
    tasks: dict[str, TaskDisplay] = {}
    for tname, t in (raw.get("tasks") or {}).items():
        metrics = []
        for m in t.get("metrics") or []:
            better = m.get("better")
            if better is not None and better not in BETTER_VALUES:
                raise UserError(f"leaderboard spec: task {tname} metric {m.get('name')}: "
                                f"better must be one of {', '.join(BETTER_VALUES)}, got {better!r}")
            metrics.append(MetricDisplay(name=m["name"], display=m.get("display", m["name"]),
                                         better=better, format=str(m.get("format", ""))))
        tasks[tname] = TaskDisplay(name=tname, display=t.get("display", tname),
                                   main_metric=t.get("main_metric", ""), metrics=tuple(metrics))
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
