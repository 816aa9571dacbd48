"""Fault injection: `kill -9` at seeded random points of a run, then a rerun. No partial or
temp file is ever left, and the resumed results equal an uninterrupted run's."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile.conftest import TOY

CMD = ["run", "--include-path", str(TOY), "--preset", "tiny", "--models", "toy-model",
       "--tasks", "toy_a,toy_slow,toy_b", "--no-progress"]


def _run(out: Path, slow: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "TOY_SLOW_SECONDS": slow}
    return subprocess.Popen([sys.executable, "-m", "hmvlm_bench", *CMD, "-o", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)


def _check_no_partial(out: Path, final: bool = False) -> None:
    for p in out.rglob("*"):
        if p.is_dir():
            continue
        if p.suffix == ".lock" and not final:
            continue  # the pair lock of the killed run: unheld (the kernel dropped it), swept by the next
        assert not p.name.startswith("."), f"temp or lock file left behind: {p}"
        if p.suffix == ".json":
            json.loads(p.read_text())  # complete, parseable
        elif p.name.endswith(".samples.jsonl"):  # may precede its result (written first)
            for line in p.read_text().splitlines():
                json.loads(line)


def _metrics(out: Path) -> dict[str, dict]:
    return {str(p.relative_to(out)): json.loads(p.read_text())["metrics"]
            for p in sorted(out.glob("*/*.json"))}


@pytest.mark.slow  # ~40 s: seven CLI processes
def test_kill9_at_seeded_points_then_resume(tmp_path):
    clean = tmp_path / "clean"
    p = _run(clean, "0")
    assert p.wait(timeout=120) == 0, p.stderr.read()
    out = tmp_path / "killed"
    rng = random.Random(18)  # seeded: the same five kill points every time
    for _ in range(5):
        p = _run(out, "1.5")
        time.sleep(rng.uniform(0.2, 4.0))  # anywhere from start-up to the last pair
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        _check_no_partial(out)
    p = _run(out, "0")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    _check_no_partial(out, final=True)
    assert _metrics(out) == _metrics(clean)


def test_two_concurrent_runs_into_one_folder_leave_valid_files(tmp_path):
    out = tmp_path / "out"
    procs = [_run(out, "0.5") for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    _check_no_partial(out, final=True)
    assert sorted(_metrics(out)) == ["toy-model/toy_a.json", "toy-model/toy_b.json", "toy-model/toy_slow.json"]
