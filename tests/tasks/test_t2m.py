"""t2m task: protocol plumbing with a stub evaluator and fake models."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hmvlm_bench.contracts import Prediction
from hmvlm_bench.errors import UserError
from tasks.common import ModelOutputError
from tasks.t2m import T2MCompositionalTask, T2MFirstTokenTask, T2MTask
from tests.tasks.conftest import FakeModel, make_ctx, view


def _noise(r):
    rng = np.random.default_rng(r.seed)
    return rng.normal(size=(r.length, 263)).astype(np.float32)


def test_oracle_beats_random_and_fid_is_zero(ctx):
    task = T2MTask()
    oracle = task.evaluate(view(FakeModel(oracle=True)), ctx)
    noise = task.evaluate(view(FakeModel(motion=_noise)), ctx)
    assert oracle.n_samples == 32  # tiny preset eval_limit
    assert oracle.metrics["r_precision_top3"].value > 0.9
    assert noise.metrics["r_precision_top3"].value < oracle.metrics["r_precision_top3"].value - 0.5
    assert abs(oracle.metrics["fid"].value) < 1e-6
    assert noise.metrics["fid"].value > 1.0
    # real-vs-real MM-Dist is 0 with the lookup stub (texts embed as their motions)
    assert oracle.metrics["mm_dist"].value == pytest.approx(0.0, abs=1e-9)


def test_replication_shapes_and_ci(ctx):
    res = T2MTask({"replications": 7}).evaluate(view(FakeModel(motion=_noise)), ctx)
    for name in ("r_precision_top1", "r_precision_top2", "r_precision_top3", "fid", "mm_dist", "diversity"):
        m = res.metrics[name]
        assert m.n == 7 and len(m.values) == 7
        v = np.asarray(m.values)
        assert m.value == pytest.approx(v.mean())
        assert m.ci == pytest.approx(1.96 * v.std() / np.sqrt(7))
    assert res.metrics["diversity"].higher_is_better is None
    assert res.extra["r_precision_batch"] == 32 and res.extra["diversity_pairs"] == 31
    assert "protocol" in res.extra
    json.dumps(res.samples)  # JSON-serialisable
    assert {"id", "caption", "length", "generated_length", "failed"} <= set(res.samples[0])


def test_deterministic_and_requests_carry_gt_length_and_seed(ctx):
    seen = []

    def rec(r):
        seen.append(r)
        return _noise(r)

    a = T2MTask().evaluate(view(FakeModel(motion=rec)), ctx)
    b = T2MTask().evaluate(view(FakeModel(motion=_noise)), ctx)
    assert a.metrics["fid"].values == b.metrics["fid"].values
    assert [s["caption"] for s in a.samples] == [s["caption"] for s in b.samples]
    assert all(r.target is None for r in seen)  # hidden from non-oracles
    assert [r.length for r in seen] == [s["length"] for s in a.samples]
    assert len({r.seed for r in seen}) == len(seen)


def test_one_batched_call(ctx):
    m = FakeModel(motion=_noise)
    T2MTask().evaluate(view(m), ctx)
    assert m.batches == [32]


def test_variants_and_compositional_split(ctx):
    seen = []

    def rec(r):
        seen.append(r)
        return _noise(r)

    T2MFirstTokenTask({"replications": 2}).evaluate(view(FakeModel(motion=rec)), ctx)
    assert {r.variant for r in seen} == {"first_token"}
    res = T2MCompositionalTask({"replications": 2}).evaluate(view(FakeModel(oracle=True)), ctx)
    assert res.dataset["split"] == "test_compositional"
    assert res.n_samples == 16  # the whole (small) compositional split
    assert res.extra["r_precision_batch"] == 16  # fewer than 32 samples: documented shrink


def test_gate_weights_are_averaged(ctx):
    def gated(r):
        return Prediction(_noise(r), {"gate": [0.5, 0.1, 0.1, 0.2, 0.1]})

    res = T2MTask({"replications": 2}).evaluate(view(FakeModel(motion=gated)), ctx)
    assert res.extra["gate_weights"]["t2m"] == pytest.approx([0.5, 0.1, 0.1, 0.2, 0.1])


def test_bad_outputs(ctx):
    wrong_width = FakeModel(motion=lambda r: np.zeros((r.length, 251)))
    with pytest.raises(ModelOutputError, match="expected \\(T, 263\\)"):
        T2MTask().evaluate(view(wrong_width), ctx)
    all_nan = FakeModel(motion=lambda r: np.full((r.length, 263), np.nan))
    with pytest.raises(ModelOutputError, match="32/32 samples failed"):
        T2MTask().evaluate(view(all_nan), ctx)
    short = FakeModel(motion=lambda r: np.zeros((2, 263)) if r.sample_id.endswith("0") else _noise(r))
    with pytest.raises(ModelOutputError, match="too short"):
        T2MTask().evaluate(view(short), ctx)
    wrong_count = FakeModel(motion=_noise)
    wrong_count.generate_motion = lambda reqs: [Prediction(_noise(reqs[0]))]
    with pytest.raises(ModelOutputError, match="1 predictions for 32"):
        T2MTask().evaluate(view(wrong_count), ctx)


def test_some_failures_are_counted_not_hidden(ctx):
    bad_id = []

    def one_nan(r):
        if not bad_id:
            bad_id.append(r.sample_id)
            return np.full((r.length, 263), np.nan)
        return _noise(r)

    res = T2MTask({"replications": 2, "max_failure_rate": 0.1}).evaluate(view(FakeModel(motion=one_nan)), ctx)
    assert res.metrics["failure_rate"].value == pytest.approx(1 / 32)
    assert res.extra["n_failed"] == 1
    failed = [s for s in res.samples if s["failed"]]
    assert [s["id"] for s in failed] == bad_id and "non-finite" in failed[0]["failed"]


def test_multimodality_option(ctx):
    def noisy_oracle(r):
        return _noise(r) * 0.01

    res = T2MTask({"replications": 3, "multimodality": True, "mm_texts": 4, "mm_generations": 5,
                   "mm_pairs": 2}).evaluate(view(FakeModel(motion=noisy_oracle)), ctx)
    mm = res.metrics["multimodality"]
    assert mm.n == 3 and mm.value > 0
    assert res.extra["mm_texts"] == 4
    with pytest.raises(UserError, match="mm_pairs"):
        T2MTask({"multimodality": True, "mm_pairs": 5, "mm_generations": 5}).evaluate(view(FakeModel()), ctx)


def test_config_records_what_changes_the_answer(ctx):
    cfg = T2MTask({"replications": 3}).config(ctx)
    assert cfg["replications"] == 3 and cfg["limit"] == 32 and cfg["split"] == "test"
    assert cfg["evaluator"] == {"name": "stub", "fingerprint": "stub-0"}
    assert T2MTask().task_hash(ctx) != T2MFirstTokenTask().task_hash(ctx)
    assert T2MTask().task_hash(ctx) != T2MTask({"replications": 3}).task_hash(ctx)


def test_empty_split_is_a_user_error(synth_root, tmp_path):
    import shutil

    root = tmp_path / "empty"
    shutil.copytree(synth_root, root)
    (root / "test.txt").write_text("")
    with pytest.raises(UserError, match="no usable items"):
        T2MTask().evaluate(view(FakeModel(oracle=True)), make_ctx(root, tmp_path, evaluator=None))
