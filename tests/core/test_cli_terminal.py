"""Terminal niceties: --version, -h, completion, plain `ls` when piped, help at 80 columns."""
from __future__ import annotations

from typer.testing import CliRunner

from hmvlm_bench import __version__
from hmvlm_bench.cli.listing import plain
from hmvlm_bench.cli.main import app

runner = CliRunner()


def test_version_and_short_help() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"hmvlm-bench {__version__}"
    for argv in (["-h"], ["run", "-h"], ["data", "import-bvh", "-h"]):
        res = runner.invoke(app, argv)
        assert res.exit_code == 0 and "Usage:" in res.output, argv
    assert "--install-completion" in runner.invoke(app, ["-h"]).output


def test_run_help_fits_80_columns_with_readable_metavars() -> None:
    res = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    lines = res.output.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert "--data NAME=DIR" in res.output and "--task-option TASK.OPT=VALUE" in res.output
    assert "list[" not in res.output and "…" not in res.output


def test_ls_piped_is_plain_with_full_names_and_data_needs() -> None:
    res = runner.invoke(app, ["ls", "tasks"])  # CliRunner's stdout is not a terminal
    assert res.exit_code == 0
    assert "┃" not in res.output and "…" not in res.output
    row = next(line for line in res.output.splitlines() if line.startswith("pose_from_image_h36m "))
    assert "--data h36m=PATH" in row and "estimate_pose" in row
    t2m = next(line for line in res.output.splitlines() if line.startswith("t2m "))
    assert " - " in t2m  # built-in data: no --data needed


def test_plain_columns() -> None:
    assert plain(("a", "bb", "c"), [("long-name", "x", "free text here")]).splitlines() == [
        "a          bb  c", "long-name  x   free text here"]
