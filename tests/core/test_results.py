from __future__ import annotations

import json
import math
import os
import signal
from pathlib import Path

import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.results import (SCHEMA_VERSION, MetricRecord, ResultFile, Timing,
                                 atomic_write_text, dump_result, iter_results, load_result,
                                 load_samples, result_path, write_result)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"


def _result(**kw) -> ResultFile:
    base = dict(task="toy", task_version=1, task_hash="h", model="m", fingerprint="f",
                metrics={"score": MetricRecord(value=0.5, ci=0.1)}, n_samples=3, seed=0,
                preset="tiny", timing=Timing(started="a", finished="b", seconds=1.0))
    base.update(kw)
    return ResultFile(**base)


def test_historic_v1_file_stays_readable():
    # Committed fixture written by schema_version 1: never edit it; teach _upgrade instead.
    r = load_result(FIXTURES / "schema_v1" / "hmvlm" / "t2m.json")
    assert r.schema_version == 1 <= SCHEMA_VERSION
    assert r.metrics["r_precision_top3"].value == pytest.approx(0.512)
    assert r.metrics["diversity"].higher_is_better is None
    assert r.dataset["name"] == "synthetic" and r.evaluator["fingerprint"] == "deadbeef"
    assert load_samples(FIXTURES / "schema_v1", "hmvlm", "t2m")[0]["text"] == "a person walks"


def test_round_trip_is_byte_stable(tmp_path):
    r = _result()
    p = write_result(tmp_path, r, [{"id": "1", "v": 1.0}])
    assert p == result_path(tmp_path, "m", "toy")
    again = load_result(p)
    assert again == r
    assert dump_result(again) == p.read_text()


def test_non_finite_metrics_are_refused():
    with pytest.raises(ValueError, match="finite"):
        MetricRecord(value=math.nan)
    with pytest.raises(ValueError, match="finite"):
        MetricRecord(value=1.0, ci=math.inf)


@pytest.mark.parametrize("content,match", [
    ("{not json", "unreadable"),
    ("[]", "not an hmvlm-bench result"),
    (json.dumps({"schema_version": 99}), "schema_version 99"),
    (json.dumps({"schema_version": 1, "task": "x"}), "invalid result file"),
])
def test_bad_files_give_one_line_errors(tmp_path, content, match):
    p = tmp_path / "m" / "x.json"
    p.parent.mkdir()
    p.write_text(content)
    with pytest.raises(UserError, match=match):
        load_result(p)


def test_iter_results_sorted_and_missing_dir(tmp_path):
    write_result(tmp_path, _result(model="b"))
    write_result(tmp_path, _result(model="a"))
    assert [r.model for r in iter_results(tmp_path)] == ["a", "b"]
    with pytest.raises(UserError, match="does not exist"):
        iter_results(tmp_path / "nope")


def test_atomic_write_leaves_old_file_when_killed(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_text(target, "old")
    pid = os.fork()
    if pid == 0:  # child: start a write and die by SIGKILL half-way through
        import hmvlm_bench.results as res

        real_replace = os.replace

        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)
            real_replace(*a, **k)

        res.os.replace = die
        res.atomic_write_text(target, "new" * 1000)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)
    assert target.read_text() == "old"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "r.json"]
    assert all(n.endswith(".tmp") for n in leftovers)  # never mistaken for a result
    assert list(tmp_path.glob("*.json")) == [target]
