"""Progress over generated samples: one bar per (model, task) model call, fed by the model.

Generation is most of an evaluation's time, but a task hands the model the whole request
list at once (the model batches and orders it itself, so splitting it would change the
batches and hence the floats). The task therefore opens `sample_bar(total, desc)` around
the call, and a model that batches calls `advance(n)` after each batch; a model that
never calls it gets its bar filled when it returns. No bar is open -> `advance` is a no-op.

On a terminal the bar has an ETA and stays as one line per (model, task); off a terminal
(CI logs, pipes) it prints one line when it starts and one when it ends.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

_bar: ContextVar[Any] = ContextVar("hmvlm_sample_bar", default=None)


def _fmt_seconds(s: float) -> str:
    return f"{int(s // 60)} min {s % 60:.0f} s" if s >= 60 else f"{s:.1f} s"


@contextmanager
def sample_bar(total: int, desc: str, enabled: bool = True, unit: str = "sample") -> Iterator[Any]:
    """A bar over `total` samples (stderr); `advance` feeds the innermost open one."""
    if not enabled or total <= 0:
        token = _bar.set(None)
        try:
            yield None
        finally:
            _bar.reset(token)
        return
    from tqdm.auto import tqdm

    tty = sys.stderr.isatty()
    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not tty, leave=True,
               dynamic_ncols=True)
    if not tty:
        print(f"{desc}: {total} {unit}s ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    token = _bar.set(bar)
    try:
        yield bar
        if bar.n < total:
            bar.update(total - bar.n)
    finally:
        _bar.reset(token)
        bar.close()
    if not tty:
        print(f"{desc}: {total} {unit}s in {_fmt_seconds(time.perf_counter() - start)}", file=sys.stderr, flush=True)


def advance(n: int = 1) -> None:
    """Mark `n` more samples done on the open bar (if any)."""
    bar = _bar.get()
    if bar is not None:
        bar.update(min(n, max(0, bar.total - bar.n)))


__all__ = ["sample_bar", "advance"]
