"""Tidy CSV: one row per (model, task, metric), measured and published (see `source`)."""
from __future__ import annotations

import csv
import io

from hmvlm_bench.reporting.board import Board, evaluator_hash

COLUMNS = ("source", "model", "task", "task_version", "metric", "value", "ci", "n",
           "higher_is_better", "better", "is_main", "dataset", "dataset_hash", "evaluator",
           "evaluator_hash", "preset", "n_samples", "seed", "git_hash", "fingerprint")


def render_csv(board: Board) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for tb in board.tasks:
        for model in tb.models:
            r = tb.results[model]
            for md in tb.display.metrics:
                rec = tb.cell(model, md.name)
                if rec is None:
                    continue
                w.writerow({
                    "source": "measured", "model": model, "task": tb.name,
                    "task_version": r.task_version, "metric": md.name,
                    "value": "" if rec.value is None else repr(rec.value),
                    "ci": "" if rec.ci is None else repr(rec.ci),
                    "n": len(rec.values) if rec.values else (rec.n if rec.n is not None else ""),
                    "higher_is_better": "" if rec.higher_is_better is None else rec.higher_is_better,
                    "better": md.better or "", "is_main": md.name == tb.display.main_metric,
                    "dataset": (r.dataset or {}).get("name", ""),
                    "dataset_hash": (r.dataset or {}).get("hash") or (r.dataset or {}).get("fingerprint") or "",
                    "evaluator": (r.evaluator or {}).get("name", ""), "evaluator_hash": evaluator_hash(r),
                    "preset": r.preset, "n_samples": r.n_samples, "seed": r.seed,
                    "git_hash": r.git_hash or "", "fingerprint": r.fingerprint,
                })
    for block in board.published:
        for row in block.rows:
            for metric, value in row.metrics.items():
                w.writerow({"source": f"published: {block.source}", "model": row.model,
                            "task": block.task, "metric": metric, "value": repr(value),
                            "dataset": block.dataset, "evaluator": block.evaluator})
    return buf.getvalue()
