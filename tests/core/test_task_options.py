"""`--task-option TASK.NAME=VALUE`: parsed, routed to the task, checked before any work."""
from __future__ import annotations

from pathlib import Path

import pytest

from hmvlm_bench.cli.args import parse_task_options
from hmvlm_bench.context import TaskContext
from hmvlm_bench.errors import UserError
from hmvlm_bench.runner import check_task_options


def test_parse() -> None:
    assert parse_task_options(["t2m.regenerate=true", "t2m.replications = 3", "m2t.bertscore=false"]) == {
        "t2m": {"regenerate": "true", "replications": "3"}, "m2t": {"bertscore": "false"}}
    for bad in ["t2m=1", "regenerate=true", "t2m.=1", "t2m.x="]:
        with pytest.raises(UserError, match="TASK.NAME=VALUE"):
            parse_task_options([bad])
    with pytest.raises(UserError, match="twice"):
        parse_task_options(["t2m.x=1", "t2m.x=2"])


class _Opt:
    """A task that reads two options the way the task plugins do (hmvlm_bench.taskkit.option)."""

    name = "toy"

    def __init__(self, options: dict) -> None:
        self.options = options
        self.options_read = {"dataset"}

    def config(self, ctx: object) -> dict:
        from hmvlm_bench.taskkit import bool_option, int_option

        return {"replications": int_option(self, ctx, "replications", 20, 1),
                "regenerate": bool_option(self, ctx, "regenerate", False)}


def _ctx() -> TaskContext:
    return TaskContext.__new__(TaskContext)  # option() only reads ctx.options


def test_unknown_and_malformed_options_are_named() -> None:
    ctx = _ctx()
    ctx.options = {}
    check_task_options([_Opt({"regenerate": "true", "replications": "5"})], ctx)  # fine
    with pytest.raises(UserError, match="task 'toy' has no option 'regenerat' — did you mean 'regenerate'"):
        check_task_options([_Opt({"regenerat": "true"})], ctx)
    with pytest.raises(UserError, match="must be an integer"):
        check_task_options([_Opt({"replications": "many"})], ctx)
    with pytest.raises(UserError, match="true/false"):
        check_task_options([_Opt({"regenerate": "maybe"})], ctx)


def test_cli_routes_options_and_refuses_other_tasks(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hmvlm_bench.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["run", "--preset", "tiny", "--tasks", "m2t", "--task-option", "t2m.regenerate=true",
                              "-o", str(tmp_path / "o")])
    assert res.exit_code != 0 and "not among --tasks" in str(res.exception) + res.output
    res = runner.invoke(app, ["run", "--preset", "tiny", "--tasks", "t2m", "--task-option", "t2x.regenerate=true",
                              "-o", str(tmp_path / "o")])
    assert res.exit_code != 0 and "did you mean 't2m'" in str(res.exception) + res.output
