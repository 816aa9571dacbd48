"""A task plugin needs only the core task kit (`hmvlm_bench.taskkit`): the fixture task in
tests/fixtures/kit_plugin/ imports nothing from `tasks/`, loads through `--include-path`,
and its config/hash come from the kit's SplitTask."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.plugins import load_registries
from tests.tasks.conftest import FakeModel, view

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "kit_plugin"


def test_plugin_imports_only_the_core() -> None:
    tree = ast.parse((PLUGIN_DIR / "motion_mse.py").read_text())
    roots = {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    roots |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert roots <= {"__future__", "typing", "numpy", "hmvlm_bench"}, roots


def test_kit_task_runs_and_is_keyed(ctx) -> None:
    regs = load_registries([PLUGIN_DIR])
    cls = regs.tasks.get("motion_mse")
    task = cls()
    cfg = task.config(ctx)
    assert cfg == {"name": "motion_mse", "version": 1, "dataset": "synthetic", "split": "test",
                   "limit": ctx.eval_limit, "max_failure_rate": 0.05, "options": {}}
    assert task.task_hash(ctx) != cls({"max_failure_rate": 0.1}).task_hash(ctx)
    res = task.evaluate(view(FakeModel(oracle=True)), ctx)
    assert res.n_samples == ctx.eval_limit and res.metrics["mse"].value == pytest.approx(0.0, abs=1e-12)

    def broken(r):  # every sample NaN: over the failure budget, never a number
        return np.full((r.length, 263), np.nan, dtype=np.float32)

    with pytest.raises(Exception, match="samples failed"):
        task.evaluate(view(FakeModel(motion=broken)), ctx)
    with pytest.raises(UserError, match="must be a number"):
        cls({"max_failure_rate": "lots"}).config(ctx)
