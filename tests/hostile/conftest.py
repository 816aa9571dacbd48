"""The hostile-input suite: each case must end in exit 2, one `error:` line naming the bad
thing, no traceback, and nothing new or partial in the output folder.

Cases run the CLI in-process (`run_cli`, the same code `hmvlm-bench` runs) so ~100 of them
take seconds; an exception escaping `run_cli` is a traceback a user would have seen, and
fails the test as such.
"""
from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "tests" / "fixtures" / "plugins" / "toy_plugin.py"


@dataclass
class CliResult:
    rc: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.startswith("error:")]


def invoke(argv: list[str]) -> CliResult:
    from hmvlm_bench.cli.exits import run_cli
    from hmvlm_bench.cli.main import app

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = run_cli(app, [str(a) for a in argv])
    return CliResult(rc, out.getvalue(), err.getvalue())


def snapshot(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*"))}


def assert_one_error(res: CliResult, *needles: str, rc: int = 2) -> str:
    """Exit `rc`, exactly one `error:` line containing every needle, no traceback."""
    assert "Traceback" not in res.err, res.err
    assert res.rc == rc, (res.rc, res.err)
    assert len(res.error_lines) == 1, res.err
    line = res.error_lines[0]
    for n in needles:
        assert n in line, (n, line)
    return line


@pytest.fixture
def cli():
    return invoke


@pytest.fixture(autouse=True)
def _quiet_logs(monkeypatch):
    # the CLI's --verbose logging writes to the real stderr in-process; keep cases readable
    monkeypatch.setattr(sys, "argv", ["hmvlm-bench"])
