"""`hmvlm-bench ls`: rows for tasks and models, drawn as tables on a terminal and as plain
columns when piped (a rich table cut `pose_from_image_h36m` to `pose_from_ima...` at 80
columns and in pipes, where nobody can widen the window)."""
from __future__ import annotations

import sys
from typing import Any, Sequence

BUILT_IN_DATA = ("synthetic", "lm_eval_offline")  # shipped or generated offline: no --data needed


def data_needs(dataset_name: str) -> str:
    return "-" if dataset_name in BUILT_IN_DATA else f"--data {dataset_name}=PATH"


def task_rows(regs: Any) -> list[tuple[str, ...]]:
    rows = []
    for name in regs.tasks.names():
        meta = regs.tasks.meta(name)
        if meta.get("group"):
            rows.append((name, "group", "", "", "", "= " + ", ".join(meta["group"])))
            continue
        cls = regs.tasks.get(name)
        rows.append((name, f"v{cls.version}", cls.requires.value, data_needs(cls.dataset_name),
                     cls.main_metric, cls.description or meta.get("description", "")))
    return rows


def model_rows(regs: Any) -> list[tuple[str, ...]]:
    rows = []
    for name in regs.models.names():
        meta = regs.models.meta(name)
        cls = regs.models.get(name)
        caps = ", ".join(sorted(c.value for c in cls.capabilities))
        rows.append((name, caps, meta.get("description", (cls.__doc__ or "").strip().split("\n")[0])))
    return rows


def plain(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart; the last column is never padded."""
    table = [tuple(header), *[tuple(r) for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths)), r[-1]]).rstrip() for r in table]
    return "\n".join(lines)


def print_rows(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    if not sys.stdout.isatty():
        print(plain(header, rows))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for i, col in enumerate(header):
        # names and identifiers are never cut; descriptions wrap
        t.add_column(col, no_wrap=i < len(header) - 1, overflow="fold")
    for r in rows:
        t.add_row(*r)
    Console().print(t)
