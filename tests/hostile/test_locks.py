"""Two runs into one folder (or one cache) never compute the same thing at once: a pair
another run is computing is done last and then reused; an artifact is built once; locks
and temp folders of killed processes are cleaned up by the next one."""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hmvlm_bench.locking import FileLock, file_lock
from tests.hostile.conftest import REPO, invoke

LOCK_PLUGIN = REPO / "tests" / "hostile" / "plugins" / "lock_plugin.py"
RUN = ["run", "--preset", "tiny", "--no-progress", "--include-path", str(LOCK_PLUGIN),
       "--models", "count-model"]


def _wait_for(cond, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _locks(root: Path) -> list[Path]:
    return sorted(root.rglob("*.lock"))


# ------------------------------------------------------------------------- the primitive
@settings(max_examples=12, deadline=None)
@given(n_threads=st.integers(2, 4), rounds=st.integers(1, 4), remove=st.booleans(),
       nested=st.booleans())
def test_a_file_lock_has_one_holder_at_a_time(n_threads, rounds, remove, nested):
    """flock is per open file, so threads contend like processes; with remove=True every
    release deletes the file others may be waiting on (the unlink race) and exclusion must hold."""
    root = Path(tempfile.mkdtemp(prefix="lock-prop-"))
    path = root / "a" / "b" / ".x.lock" if nested else root / ".x.lock"
    inside, worst, mu = [0], [0], threading.Lock()

    def worker() -> None:
        for _ in range(rounds):
            with file_lock(path, remove=remove):
                with mu:
                    inside[0] += 1
                    worst[0] = max(worst[0], inside[0])
                time.sleep(0.002)
                with mu:
                    inside[0] -= 1

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert worst[0] == 1
    assert path.exists() is not remove  # a removable lock leaves no file behind
    shutil.rmtree(root)


def test_non_blocking_acquire_reports_the_holder(tmp_path):
    a, b = FileLock(tmp_path / "d" / ".k.lock", remove=True), FileLock(tmp_path / "d" / ".k.lock")
    assert a.acquire(blocking=False)
    assert not b.acquire(blocking=False)
    assert b.holder() == str(os.getpid())
    a.release()
    assert not (tmp_path / "d").exists()  # the folder the lock made is gone with it
    assert b.acquire(blocking=False)
    b.release()


# ------------------------------------------------------------------------- (model, task) pairs
def test_a_busy_pair_is_done_last_then_reused(tmp_path, monkeypatch, caplog):
    """Another run holds count_a's lock: this run computes count_b first, then waits for
    count_a and reuses the other run's result instead of computing it again."""
    ref, out, log = tmp_path / "ref", tmp_path / "out", tmp_path / "count.log"
    args = [*RUN, "--tasks", "count_a,count_b"]
    assert invoke([*args, "-o", str(ref)]).rc == 0
    monkeypatch.setenv("COUNT_LOG", str(log))
    lock = FileLock(out / "count-model" / ".count_a.lock", remove=True)
    assert lock.acquire(blocking=False)
    seen: dict[str, bool] = {}

    def other_run() -> None:  # plays a second process that is computing count_a
        b = out / "count-model" / "count_b.json"
        try:
            _wait_for(b.exists, 60, "count_b")
            seen["b_first"] = True
        except AssertionError:
            seen["b_first"] = False
        time.sleep(0.3)  # the run is now waiting on count_a
        for name in ("count_a.json", "count_a.samples.jsonl"):
            shutil.copy(ref / "count-model" / name, out / "count-model" / name)
        lock.release()

    th = threading.Thread(target=other_run)
    th.start()
    with caplog.at_level(logging.WARNING, logger="hmvlm_bench"):
        res = invoke([*args, "-o", str(out)])
    th.join()
    assert res.rc == 0, res.err
    assert seen["b_first"], "the busy pair blocked the run instead of being left for last"
    msgs = " | ".join(r.getMessage() for r in caplog.records)
    assert "count-model / count_a is being computed by another run" in msgs, msgs
    assert f"waiting for process {os.getpid()}, which is computing count-model / count_a" in msgs, msgs
    assert log.read_text().split() == [str(os.getpid()), "count_b"]  # count_a never evaluated here
    assert (out / "count-model" / "count_a.json").read_bytes() == (ref / "count-model" / "count_a.json").read_bytes()
    assert _locks(out) == []
    # the summary lists the pairs in task order, whatever order they ran in
    assert res.err.index("count_a") < res.err.index("count_b")


def test_a_lock_left_by_a_killed_run_is_swept(tmp_path):
    out = tmp_path / "out"
    args = [*RUN, "--tasks", "count_a", "-o", str(out)]
    assert invoke(args).rc == 0
    (out / "count-model" / ".count_a.lock").write_text("999999")  # holder died after writing
    res = invoke(args)
    assert res.rc == 0 and "already up to date" in res.err
    assert _locks(out) == []


def test_two_processes_compute_each_pair_once(tmp_path):
    """Deterministic interleaving: run 1 holds count_a (gated); run 2 must do count_b and
    count_c, then wait; run 1 then finds b and c done. Each pair is evaluated once."""
    out, log, gate = tmp_path / "out", tmp_path / "count.log", tmp_path / "gate"
    env = {**os.environ, "COUNT_LOG": str(log), "COUNT_GATE": str(gate), "COUNT_HOLD": "count_a",
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "hmvlm_bench", *RUN, "--tasks", "count_a,count_b,count_c", "-o", str(out)]

    def lines() -> list[list[str]]:
        return [ln.split() for ln in log.read_text().splitlines()] if log.exists() else []

    p1 = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: lines() == [[str(p1.pid), "count_a"]], what="run 1 to start count_a")
        p2 = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _wait_for(lambda: len(lines()) == 3, what="run 2 to do count_b and count_c")
            gate.touch()
            _, err2 = p2.communicate(timeout=120)
        finally:
            p2.kill()
        _, err1 = p1.communicate(timeout=120)
    finally:
        gate.touch()
        p1.kill()
    assert p1.returncode == 0, err1
    assert p2.returncode == 0, err2
    assert lines() == [[str(p1.pid), "count_a"], [str(p2.pid), "count_b"], [str(p2.pid), "count_c"]]
    assert f"count-model / count_a is being computed by another run (process {p1.pid})" in err2, err2
    assert f"waiting for process {p1.pid}" in err2, err2
    for task in ("count_a", "count_b", "count_c"):
        json.loads((out / "count-model" / f"{task}.json").read_text())
    assert _locks(out) == []
    assert [p for p in out.rglob(".*")] == []  # no temp file either


# ------------------------------------------------------------------------- artifact builds
def test_one_artifact_is_built_once_by_concurrent_builders(tmp_path):
    from hmvlm_bench.artifacts import ArtifactStore

    calls: list[int] = []

    def build(d: Path) -> None:
        calls.append(threading.get_ident())
        time.sleep(0.3)
        (d / "data.txt").write_text("x")

    got: list[Path] = []
    threads = [threading.Thread(target=lambda: got.append(
        ArtifactStore(tmp_path).get_or_build("thing", {"a": 1}, build))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(calls) == 1 and len(set(got)) == 1 and len(got) == 3
    assert (got[0] / "data.txt").read_text() == "x"


def test_temp_folders_of_killed_builds_are_removed_by_the_next_build(tmp_path):
    from hmvlm_bench.artifacts import ArtifactStore

    store = ArtifactStore(tmp_path)
    kind = tmp_path / "thing"
    kind.mkdir()
    dead = kind / ".0123456789abcdef.k2x9_q"  # mkdtemp(prefix=".KEY.") of a killed build
    dead.mkdir()
    (dead / "half.npy").write_bytes(b"\x93NUMPY")
    (kind / ".0123456789abcdef.lock").write_text("999999")
    live = kind / ".fedcba9876543210.zz81_a"  # a build running now holds its key's lock
    live.mkdir()
    holder = FileLock(kind / ".fedcba9876543210.lock")
    assert holder.acquire(blocking=False)
    try:
        store.get_or_build("thing", {"b": 2}, lambda d: (d / "f").write_text("y"))
        assert not dead.exists()
        assert live.is_dir()
    finally:
        holder.release()
    # its holder gone, that folder is stale too; finished artifacts and work dirs stay
    key = store.key({"b": 2})
    work = store.work_dir("thing", {"c": 3})
    store.get_or_build("thing", {"d": 4}, lambda d: (d / "f").write_text("z"))
    assert not live.exists()
    assert (kind / key / "f").read_text() == "y" and work.is_dir()
