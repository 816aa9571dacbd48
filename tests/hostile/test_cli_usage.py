"""CLI usage errors: one line naming the bad option or command, exit 2, no traceback."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.hostile.conftest import TOY, assert_one_error, invoke

USAGE = [
    (["run", "--bogus"], ["No such option: --bogus", "hmvlm-bench run --help"]),
    (["rnu"], ["No such command 'rnu'", "did you mean 'run'"]),
    (["run", "--limit", "abc"], ["'--limit'", "integer"]),
    (["run", "--seed", "abc"], ["'--seed'", "integer"]),
    (["run", "--limit"], ["'--limit'", "requires an argument"]),
    (["compare", "--results", "x"], ["'--baseline'"]),
    (["data", "import-bvh"], ["'src'"]),
    (["data", "synth"], ["'--out'"]),
    (["data", "synth", "--out", "x", "--size", "1.5"], ["'--size'"]),
    (["train", "modle"], ["No such command 'modle'"]),
    (["ls", "tasks", "extra"], ["unexpected extra argument", "extra"]),
    (["bench", "--quick=maybe"], ["--quick"]),
    (["report", "--format"], ["'--format'"]),
    (["run", "--launcher", "mpi"], ["launcher 'mpi'"]),
]


@pytest.mark.parametrize("argv,needles", USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_error_is_one_line(argv, needles):
    res = invoke(argv)
    line = assert_one_error(res)
    for n in needles:
        assert n.lower() in line.lower(), (n, line)


def test_debug_still_exits_2_on_usage_errors():
    assert_one_error(invoke(["--debug", "rnu"]), "rnu")


def test_bare_command_prints_its_help():
    res = invoke(["data"])
    assert res.rc == 2 and "import-bvh" in res.out + res.err and "Traceback" not in res.err


def test_typer_is_the_tested_range():
    # exits.py takes click's classes from typer (>= 0.22 bundles its own click); pyproject
    # pins the range tested here, so a typer that moves them fails this test, not users
    import typer

    from hmvlm_bench.cli.exits import ClickException, UsageError

    major, minor = (int(x) for x in typer.__version__.split(".")[:2])
    assert (major, minor) == (0, 29), typer.__version__
    assert issubclass(typer.BadParameter, UsageError) and issubclass(UsageError, ClickException)


def test_ctrl_c_keeps_results_and_says_so(tmp_path):
    """SIGINT mid-pair: exit 130, the one-line message, the finished pair kept."""
    out = tmp_path / "out"
    env = {**os.environ, "TOY_SLOW_SECONDS": "60"}
    p = subprocess.Popen([sys.executable, "-m", "hmvlm_bench", "run", "--include-path", str(TOY),
                          "--preset", "tiny", "--models", "toy-model", "--tasks", "toy_a,toy_slow",
                          "--no-progress", "-o", str(out)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = out / "toy-model" / "toy_a.json"
    deadline = time.time() + 60  # a bound on a hung test, not a timing assertion
    while not first.exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    assert first.exists(), p.stderr.read() if p.poll() is not None else "no first result"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "interrupted; finished results kept; rerun to resume" in err
    assert "Traceback" not in err
    assert sorted(x.name for x in first.parent.iterdir()) == ["toy_a.json", "toy_a.samples.jsonl"]


def test_main_command_never_writes_over_committed_reports():
    """`bash scripts/main.sh` must leave a fresh clone's `git status` empty: its board goes
    next to the results (runs/<preset>/, git-ignored), not into reports/."""
    from tests.hostile.conftest import REPO

    script = (REPO / "scripts" / "main.sh").read_text()
    run_line = [ln for ln in script.splitlines() if "hmvlm-bench run" in ln and not ln.lstrip().startswith("#")]
    assert run_line and "reports" not in run_line[0] and "--report-dir" not in run_line[0]
    assert "/runs/" in (REPO / ".gitignore").read_text().split()
