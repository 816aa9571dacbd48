"""All tasks through `hmvlm_bench.runner.run` with the ground-truth and random rows."""
from __future__ import annotations

import json

import pytest

from hmvlm_bench.plugins import load_registries
from hmvlm_bench.runner import RunConfig, run

TASKS = ["t2m", "t2m_first_token", "t2m_last_token", "t2m_compositional", "m2t", "pose_from_image",
         "reconstruction"]


@pytest.mark.slow
def test_all_tasks_ground_truth_beats_random(tmp_path, cache_dir):
    cfg = RunConfig(tasks=["all"], models=["ground-truth", "random"], preset="tiny", output_dir=tmp_path,
                    cache_dir=cache_dir, progress=False, debug=True)
    summary = run(cfg, load_registries())
    done = {(o.model, o.task): o for o in summary.outcomes}
    assert summary.ok
    res = {}
    for (m, t), o in done.items():
        if t in TASKS:
            assert o.status == "computed", (m, t, o.detail)
            res[m, t] = json.loads(o.path.read_text())
    assert {t for _, t in res} == set(TASKS)  # hidden tasks are not in `all`
    gt, rnd = (lambda t, k: res["ground-truth", t]["metrics"][k]["value"]), \
        (lambda t, k: res["random", t]["metrics"][k]["value"])
    assert gt("t2m", "fid") == pytest.approx(0.0, abs=1e-6)
    assert rnd("t2m", "fid") > 0.1
    assert gt("t2m", "r_precision_top3") > rnd("t2m", "r_precision_top3")
    # the oracle caption is scored against the motion's other references (human agreement)
    assert gt("m2t", "bleu4") > rnd("m2t", "bleu4")
    assert rnd("m2t", "bleu4") < 50.0
    assert gt("pose_from_image", "mpjpe") < 1e-2 < rnd("pose_from_image", "mpjpe")
    assert gt("reconstruction", "mse") == 0.0 < rnd("reconstruction", "mse")
    r = res["ground-truth", "t2m"]
    assert r["main_metric"] == "r_precision_top3" and r["evaluator"]["fingerprint"]
    assert r["dataset"]["split"] == "test" and "protocol" in r["extra"]
    assert len(r["metrics"]["fid"]["values"]) == 5  # tiny preset replications
    samples = (tmp_path / "ground-truth" / "t2m.samples.jsonl").read_text().splitlines()
    assert len(samples) == r["n_samples"]
    # second run: everything cached (task hashes are stable)
    again = run(cfg, load_registries())
    assert {o.status for o in again.outcomes if o.task in TASKS} == {"cached"}
