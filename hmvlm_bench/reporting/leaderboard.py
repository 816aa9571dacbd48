"""Markdown leaderboard: models x tasks (main metric, value ± 95% CI), one section per task,
published reference blocks kept apart, and a provenance footer."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hmvlm_bench.reporting.board import (Board, TaskBoard, arrow, build_board, commands,
                                         provenance_rows, version_sets)
from hmvlm_bench.reporting.spec import LeaderboardSpec, PublishedBlock, format_number
from hmvlm_bench.results import atomic_write_text

MISSING = "—"


def _esc(text: str) -> str:
    return str(text).replace("|", "\\|")


def _md_table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["l"] + ["r"] * (len(header) - 1)
    sep = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(_esc(h) for h in header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(_esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def value_text(tb: TaskBoard, model: str, metric: str) -> str:
    rec = tb.cell(model, metric)
    if rec is None:
        return MISSING
    if rec.value is None:
        return "n/a"
    text = tb.fmt(metric, rec.value)
    if rec.ci is not None:
        text += " ± " + tb.fmt(metric, rec.ci)
    return text


def _bold_if(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text


def main_table(board: Board) -> tuple[str, bool]:
    """The models x tasks table; returns (markdown, whether a pair is missing)."""
    header = ["model"] + [f"{tb.display.display} {tb.metric(tb.display.main_metric).display} "
                          f"{arrow(tb.metric(tb.display.main_metric).better)}".strip()
                          for tb in board.tasks]
    rows, missing = [], False
    for model in board.models:
        row = [model + (" (reference)" if model in board.reference_models else "")]
        for tb in board.tasks:
            main = tb.display.main_metric
            text = value_text(tb, model, main)
            if text == MISSING:
                missing = True
                text = MISSING + "[^missing]"
            row.append(_bold_if(text, model in tb.best.get(main, set())))
        rows.append(row)
    return _md_table(header, rows), missing


def task_section(tb: TaskBoard, reference: list[str]) -> str:
    best = tb.best_with_published
    header = ["model"] + [f"{m.display} {arrow(m.better)}".strip() for m in tb.display.metrics]
    rows = []
    for model in tb.models:
        row = [model + (" (reference)" if model in reference else "")]
        for m in tb.display.metrics:
            row.append(_bold_if(value_text(tb, model, m.name), model in best.get(m.name, set())))
        rows.append(row)
    if tb.published_comparable:  # same data and evaluator: published rows join the ranking
        for block in tb.published:
            for prow in block.rows:
                name = f"{prow.model} (published)"
                row = [name + (" (reference)" if prow.reference else "")]
                for m in tb.display.metrics:
                    v = prow.metrics.get(m.name)
                    row.append(_bold_if(format_number(v, m.format),
                                        name in best.get(m.name, set())))
                rows.append(row)
    r0 = next(iter(tb.results.values()))
    parts = [f"## {tb.display.display} (`{tb.name}` v{r0.task_version})", "",
             f"Main metric: {tb.metric(tb.display.main_metric).display}. "
             "Values are mean ± 95% CI half-width; best non-reference value per column in bold.",
             "", _md_table(header, rows)]
    for note in tb.notes:
        parts += ["", f"Note: {note}."]
    return "\n".join(parts)


def published_columns(block: PublishedBlock, spec: LeaderboardSpec) -> list[tuple[str, str, str]]:
    """(metric, display name, format) per column of a published block."""
    known = {m.name: m for m in spec.tasks[block.task].metrics} if block.task in spec.tasks else {}
    names: list[str] = []
    for r in block.rows:
        names += [k for k in r.metrics if k not in names]
    return [(n, block.display.get(n) or (known[n].display if n in known else n),
             known[n].format if n in known else "") for n in names]


def published_section(block: PublishedBlock, spec: LeaderboardSpec) -> str:
    cols = published_columns(block, spec)
    header = ["model"] + [c[1] for c in cols]
    rows = [[r.model + (" (reference)" if r.reference else "")]
            + [format_number(r.metrics[n], f) if n in r.metrics else MISSING for n, _, f in cols]
            for r in block.rows]
    text = [f"### {block.title}", "",
            f"Task `{block.task}`, dataset `{block.dataset}`, evaluator `{block.evaluator}`. "
            f"Source: {block.source}." + (f" {block.note}." if block.note else ""),
            "", _md_table(header, rows)]
    return "\n".join(text)


def provenance_section(board: Board) -> str:
    rows = provenance_rows(board)
    keys = ["model", "task", "task_version", "dataset", "evaluator", "n", "replications",
            "preset", "seed", "git", "fingerprint"]
    out = ["## Provenance", "",
           "n = evaluated samples; replications = values behind the main metric's CI; "
           "dataset and evaluator with their content hashes.", "",
           _md_table(keys, [[r[k] for k in keys] for r in rows], ["l"] * len(keys))]
    vs = version_sets(board)
    if vs:
        out += ["", "Package versions:"] + [f"- {v}" for v in vs]
    cmds = commands(board)
    if cmds:
        out += ["", "Commands:"] + [f"- `{c}`" for c in cmds]
    return "\n".join(out)


def render_markdown(board: Board) -> str:
    title = "# hmvlm-bench leaderboard"
    parts = [title, ""]
    if board.experiment:
        e = board.experiment
        parts += [f"Study **{e.get('study', '?')}**: {e.get('description', '').strip()} "
                  f"(baseline variant: `{e.get('baseline', '?')}`).", ""]
    parts += [f"Results: `{board.results_dir}` ({len(board.results)} result files, "
              f"{len(board.models)} models, {len(board.tasks)} tasks). "
              "Main metric per task, mean ± 95% CI; ↑ higher is better, ↓ lower is better, "
              "→real closer to the reference row is better; best measured value in bold.", ""]
    if not board.results:
        parts += ["No result files yet."]
        return "\n".join(parts) + "\n"
    table, missing = main_table(board)
    parts += [table, ""]
    if missing:
        parts += ["[^missing]: — : no result for this pair (the model lacks the task's "
                  "capability, the pair was not run, or it failed; see the run summary).", ""]
    for tb in board.tasks:
        parts += [task_section(tb, board.reference_models), ""]
    shown = [b for b in board.published if any(tb.name == b.task for tb in board.tasks)]
    if shown:
        parts += ["## Published reference numbers", "",
                  "Copied from papers for orientation. They are not ranked against or bolded "
                  "with the measured rows above unless those were measured on the same dataset "
                  "with the same evaluator.", ""]
        for b in shown:
            parts += [published_section(b, board.spec), ""]
    parts += [provenance_section(board), ""]
    return "\n".join(parts)


def write_markdown_leaderboard(results_dir: Path, out_dir: Path, registries: Any = None) -> Path:
    """Write `out_dir/leaderboard.md` from the result files below `results_dir` (task
    displays from `registries`, as for `build_board`)."""
    board = build_board(Path(results_dir), registries=registries)
    path = Path(out_dir) / "leaderboard.md"
    atomic_write_text(path, render_markdown(board))
    return path
