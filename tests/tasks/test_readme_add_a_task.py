"""README "Add a task" and "Add a metric", run as written: the task module in the README is
copied into a folder, imports nothing but `hmvlm_bench` (numpy, the standard library), and
the README's command runs it through `--include-path` with a typed task option."""
from __future__ import annotations

import ast
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"### {title}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def _blocks(section: str, lang: str) -> list[str]:
    return [b.split("```", 1)[0] for b in section.split(f"```{lang}\n")[1:]]


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    section = _section("Add a task")
    assert "`my_tasks/length_error.py`" in section
    folder = tmp_path_factory.mktemp("readme") / "my_tasks"
    folder.mkdir()
    (folder / "length_error.py").write_text(_blocks(section, "python")[0], encoding="utf-8")
    return folder


def test_the_task_imports_only_the_core(plugin: Path) -> None:
    tree = ast.parse((plugin / "length_error.py").read_text(encoding="utf-8"))
    roots = {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    roots |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert roots <= {"dataclasses", "numpy", "hmvlm_bench"}, roots


def test_readme_command_runs_the_task(plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hmvlm_bench.cli.main import app

    [command] = [line for b in _blocks(_section("Add a task"), "bash") for line in b.splitlines() if line.strip()]
    argv = shlex.split(command)
    assert argv[:2] == ["hmvlm-bench", "run"]
    monkeypatch.chdir(plugin.parent)  # the README runs it beside my_tasks/
    res = CliRunner().invoke(app, argv[1:] + ["--no-progress"])
    assert res.exit_code == 0, res.output
    out = plugin.parent / "runs" / "length"
    gt = json.loads((out / "ground-truth" / "length_error.json").read_text())
    rnd = json.loads((out / "random" / "length_error.json").read_text())
    assert gt["metrics"]["length_error"]["value"] == 0.0 and gt["metrics"]["within_tolerance"]["value"] == 1.0
    assert rnd["metrics"]["length_error"]["value"] > 5  # "about 25 frames on tiny"
    assert gt["config"]["task"]["tolerance"] == 0 and gt["config"]["task"]["options"] == {"tolerance": "0"}
    # a bad value of the typed option is one line naming it, before any work
    cut = argv.index("--task-option")
    base = argv[1:cut] + ["-o", str(tmp_path / "other")]
    bad = CliRunner().invoke(app, base + ["--task-option", "length_error.tolerance=-1"])
    assert bad.exit_code != 0
    assert "length_error: option 'tolerance' must be an integer >= 0, got -1" in str(bad.exception) + bad.output
    typo = CliRunner().invoke(app, base + ["--task-option", "length_error.tolerence=1"])
    assert "did you mean 'tolerance'" in str(typo.exception) + typo.output
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").rglob("*.json"))


def test_readme_add_a_metric(plugin: Path) -> None:
    section = _section("Add a metric")
    task_code = (plugin / "length_error.py").read_text(encoding="utf-8")
    function, spec = (b.strip() for b in _blocks(section, "python"))
    assert function in task_code and spec in task_code  # the snippets are the example's own lines
    ns: dict = {"np": np}
    exec(function, ns)  # noqa: S102 - our own README
    assert ns["length_error"]([40, 60], [40, 52]).tolist() == [0.0, 8.0]
    from hmvlm_bench.contracts import MetricSpec

    m = eval(spec, {"MetricSpec": MetricSpec})  # noqa: S307
    assert (m.name, m.higher_is_better, m.label, m.format) == ("length_error", False, "Length error (frames)", ".1f")
