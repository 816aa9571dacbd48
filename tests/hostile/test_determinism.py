"""A pair's result does not depend on the order of --tasks nor on which pairs ran before
it in the process: every (model, task) seeds the global RNGs from (seed, model, task)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hostile.conftest import REPO, invoke

RNG = REPO / "tests" / "hostile" / "plugins" / "rng_plugin.py"
TASKS = ["rng_a", "rng_b", "rng_c"]


def _run(tasks: list[str], out: Path) -> dict[str, tuple[dict, str]]:
    res = invoke(["run", "--include-path", str(RNG), "--preset", "tiny", "--models", "rng-model",
                  "--tasks", ",".join(tasks), "--no-progress", "-o", str(out)])
    assert res.rc == 0, res.err
    return {t: (json.loads((out / "rng-model" / f"{t}.json").read_text())["metrics"],
                (out / "rng-model" / f"{t}.samples.jsonl").read_text()) for t in tasks}


_REFERENCE: dict[str, tuple[dict, str]] = {}


def _reference() -> dict[str, tuple[dict, str]]:
    if not _REFERENCE:  # each task alone in a fresh folder: nothing ran before it
        for t in TASKS:
            _REFERENCE.update(_run([t], Path(tempfile.mkdtemp(prefix="det-ref-"))))
    return _REFERENCE


@settings(max_examples=8, deadline=None)
@given(st.permutations(TASKS).flatmap(lambda p: st.integers(1, len(p)).map(lambda k: p[:k])))
def test_results_do_not_depend_on_task_order_or_predecessors(tasks):
    got = _run(list(tasks), Path(tempfile.mkdtemp(prefix="det-")))
    ref = _reference()
    for t in tasks:
        assert got[t] == ref[t], (tasks, t)


def test_the_tasks_do_read_the_global_rngs():
    """Guard against a vacuous pass: the scores differ between tasks (draw counts differ)
    and between seeds."""
    ref = _reference()
    assert len({json.dumps(ref[t][0]) for t in TASKS}) == 3
    out = Path(tempfile.mkdtemp(prefix="det-seed-"))
    res = invoke(["run", "--include-path", str(RNG), "--preset", "tiny", "--models", "rng-model",
                  "--tasks", "rng_a", "--seed", "1", "--no-progress", "-o", str(out)])
    assert res.rc == 0, res.err
    assert json.loads((out / "rng-model" / "rng_a.json").read_text())["metrics"] != ref["rng_a"][0]
