"""Reports show an `--include-path` task the way it states itself (its `display_name` and
`MetricSpec` labels and formats): `run` passes its registries to the leaderboard it writes,
and `report` / `compare` take `--include-path` like `run` (issue 16: they loaded the
registries without it, and such a task's columns fell back to raw metric names)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hmvlm_bench.cli.main import app

TASK = '''
from hmvlm_bench import taskkit as kit
from hmvlm_bench.contracts import Capability, MetricSpec, Task, TaskResult


class ShownTask(Task):
    name = "shown_task"
    requires = Capability.GENERATE_MOTION
    display_name = "Shown task"
    metrics = (MetricSpec("odd_score", True, "Oddly named score", "pts", ".4f"),)
    main_metric = "odd_score"

    def evaluate(self, model, ctx):
        value = 0.25 if model.name == "random" else 0.5
        return TaskResult(metrics={"odd_score": kit.point_metric(value, True, 1)}, n_samples=1)


def register(regs):
    regs.tasks.register("shown_task", ShownTask)
'''


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("include")
    plugin = root / "my_tasks"
    plugin.mkdir()
    (plugin / "shown_task.py").write_text(TASK, encoding="utf-8")
    out = root / "runs"
    res = CliRunner().invoke(app, ["run", "--preset", "tiny", "--include-path", str(plugin), "--tasks", "shown_task",
                                   "--models", "ground-truth,random", "-o", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    return plugin, out


def test_run_writes_the_tasks_own_names(run_dir: tuple[Path, Path]) -> None:
    _, out = run_dir
    board = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert "Shown task" in board and "Oddly named score (pts)" in board and "0.5000" in board


def test_report_takes_include_path(run_dir: tuple[Path, Path], tmp_path: Path) -> None:
    plugin, out = run_dir
    res = CliRunner().invoke(app, ["report", "--results", str(out), "--out", str(tmp_path / "with"),
                                   "--include-path", str(plugin)])
    assert res.exit_code == 0, res.output
    board = (tmp_path / "with" / "leaderboard.md").read_text(encoding="utf-8")
    assert board == (out / "leaderboard.md").read_text(encoding="utf-8")  # as `run` wrote it
    # without it the task is unknown to the report: its columns are the files' raw names
    res = CliRunner().invoke(app, ["report", "--results", str(out), "--out", str(tmp_path / "without")])
    assert res.exit_code == 0, res.output
    board = (tmp_path / "without" / "leaderboard.md").read_text(encoding="utf-8")
    assert "Oddly named score" not in board and "odd_score" in board


def test_compare_takes_include_path(run_dir: tuple[Path, Path]) -> None:
    plugin, out = run_dir
    args = ["compare", "--results", str(out), "--baseline", "ground-truth", "--variants", "random"]
    res = CliRunner().invoke(app, args + ["--include-path", str(plugin)])
    assert res.exit_code == 0, res.output
    assert "Oddly named score (pts)" in res.output
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Oddly named score" not in res.output
