"""Which results may share a leaderboard column or a significance test.

Two numbers are comparable only when they were measured the same way: same preset, same
task version, same data (dataset name and content hash, same evaluation subset), same
evaluator (name and weights fingerprint) and same protocol. `report` and `compare` refuse,
in one line, to rank or test across any of these (a paired bootstrap over unrelated
samples that happen to share ids is the worst case: it looks rigorous).
"""
from __future__ import annotations

from typing import Sequence

from hmvlm_bench.errors import UserError
from hmvlm_bench.results import ResultFile


def _protocol(r: ResultFile) -> str:
    from hmvlm_bench.reporting.board import result_protocol

    return result_protocol(r)


def _named_hash(d: dict | None, *keys: str) -> str:
    if not d:
        return "none"
    h = next((d[k] for k in keys if d.get(k)), "")
    return f"{d.get('name', '?')} ({str(h)[:12]})" if h else str(d.get("name", "?"))


def _subset(r: ResultFile) -> str:
    run = (r.config or {}).get("run") or {}
    limit = run.get("limit") if isinstance(run, dict) else None
    if limit is None:
        limit = (r.dataset or {}).get("limit")
    return "all" if limit is None else str(limit)


# (what differs, how to read it off a result), in the order a user should fix them
ASPECTS = (
    ("presets", lambda r: r.preset),
    ("task versions", lambda r: f"v{r.task_version}"),
    ("datasets", lambda r: _named_hash(r.dataset, "hash", "fingerprint")),
    ("evaluation subsets (--limit)", _subset),
    ("evaluators", lambda r: _named_hash(r.evaluator, "fingerprint", "hash")),
    ("protocols", _protocol),
)


def incomparable(results: Sequence[ResultFile]) -> str | None:
    """Why `results` (one task) cannot share a column, or None when they can: the first
    aspect that differs, each value with the models that have it."""
    for what, read in ASPECTS:
        groups: dict[str, list[str]] = {}
        for r in results:
            groups.setdefault(read(r), []).append(r.model)
        if len(groups) > 1:
            parts = [f"{value} ({', '.join(sorted(models))})" for value, models in groups.items()]
            return f"different {what}: " + " vs ".join(parts)
    return None


def require_comparable(results: Sequence[ResultFile], task: str, action: str) -> None:
    """UserError naming the first difference; `action` says what was refused."""
    why = incomparable(results)
    if why is not None:
        raise UserError(f"cannot {action} on task '{task}': {why} "
                        "(results measured differently never share a column; give each its own "
                        "--results folder, or rerun them alike)")
