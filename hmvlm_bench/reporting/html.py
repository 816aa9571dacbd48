"""One self-contained HTML report: inline CSS/JS (sortable tables), plots as base64 PNG,
sample motions as base64 GIF. Opens offline; nothing is fetched from the network."""
from __future__ import annotations

import base64
from importlib import resources
from pathlib import Path
from typing import Any

from hmvlm_bench.reporting.board import (Board, TaskBoard, arrow, commands, provenance_rows,
                                         version_sets)
from hmvlm_bench.reporting.leaderboard import published_columns
from hmvlm_bench.reporting.media import Media
from hmvlm_bench.reporting.plots import Figure
from hmvlm_bench.reporting.spec import format_number

MAX_COLUMNS = 8  # metric columns per table: what fits a 1280 px page with wrapped headers
PROV_KEYS = ["model", "task", "task_version", "dataset", "evaluator", "n", "replications", "preset",
             "seed", "git", "fingerprint", "finished"]


def _b64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _cell(tb: TaskBoard, model: str, metric: str) -> dict[str, Any]:
    rec = tb.cell(model, metric)
    if rec is None:
        return {"text": "—", "ci": "", "sort": "", "cls": "missing"}
    if rec.value is None:
        return {"text": "n/a", "ci": "", "sort": "", "cls": "missing"}
    return {"text": tb.fmt(metric, rec.value), "ci": tb.fmt(metric, rec.ci) if rec.ci is not None else "",
            "sort": repr(rec.value), "cls": "best" if model in tb.best.get(metric, set()) else ""}


def _figure(f: Figure) -> dict[str, str]:
    return {"title": f.title, "caption": f.caption, "b64": _b64(f.path)}


def render_html(board: Board, figures: list[Figure], media: list[Media]) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    src = resources.files("hmvlm_bench.reporting").joinpath("templates/report.html.j2").read_text("utf-8")
    per_task = {f.path.stem.removeprefix("bars_"): f for f in figures if f.path.stem.startswith("bars_")}
    top = [f for f in figures if not f.path.stem.startswith("bars_")]
    main_header = [f"{tb.display.display} {tb.metric(tb.display.main_metric).display} "
                   f"{arrow(tb.metric(tb.display.main_metric).better)}".strip() for tb in board.tasks]
    main_rows, missing = [], False
    for m in board.models:
        cells = []
        for tb in board.tasks:
            c = _cell(tb, m, tb.display.main_metric)
            missing |= c["text"] == "—"
            cells.append(c)
        main_rows.append({"model": m, "reference": m in board.reference_models, "cells": cells})
    tasks = []
    for tb in board.tasks:
        r0 = next(iter(tb.results.values()))
        fig = per_task.get(tb.name)
        metrics = list(tb.display.metrics)
        # a task with 15 metrics (reconstruction) becomes two tables, not one that scrolls
        parts = [metrics[i:i + MAX_COLUMNS] for i in range(0, len(metrics), MAX_COLUMNS)] or [[]]
        tasks.append({
            "name": tb.name, "display": tb.display.display, "version": r0.task_version,
            "parts": [{"header": [f"{md.display} {arrow(md.better)}".strip() for md in part],
                       "rows": [{"model": m, "reference": m in board.reference_models,
                                 "cells": [_cell(tb, m, md.name) for md in part]} for m in tb.models]}
                      for part in parts],
            "notes": tb.notes, "figure": _figure(fig) if fig else None,
        })
    published = []
    shown_tasks = {tb.name for tb in board.tasks}
    for b in board.published:
        if b.task not in shown_tasks:
            continue
        cols = published_columns(b, board.spec)
        published.append({
            "title": b.title, "task": b.task, "dataset": b.dataset, "evaluator": b.evaluator,
            "source": b.source, "note": b.note, "header": [c[1] for c in cols],
            "rows": [{"model": r.model, "reference": r.reference,
                      "cells": [{"text": format_number(r.metrics[n], f) if n in r.metrics else "—",
                                 "sort": repr(r.metrics[n]) if n in r.metrics else ""}
                                for n, _, f in cols]} for r in b.rows],
        })
    return env.from_string(src).render(
        title="hmvlm-bench report", experiment=board.experiment, results_dir=str(board.results_dir),
        n_results=len(board.results), main={"header": main_header, "rows": main_rows, "missing": missing},
        top_figures=[_figure(f) for f in top], tasks=tasks,
        media=[{"caption": m.caption, "b64": _b64(m.path)} for m in media], published=published,
        prov_keys=PROV_KEYS, prov_rows=provenance_rows(board), versions=version_sets(board),
        commands=commands(board))
