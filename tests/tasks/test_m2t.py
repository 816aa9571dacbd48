"""m2t task: caption metrics against all references, evaluator matching."""
from __future__ import annotations

import json

import pytest

from tasks.common import ModelOutputError
from tasks.m2t import M2TTask
from tests.tasks.conftest import FakeModel, view


def test_oracle_caption_is_scored_against_the_other_references(ctx):
    res = M2TTask({"bertscore": False, "replications": 3}).evaluate(view(FakeModel(oracle=True)), ctx)
    m = res.metrics
    # leave-one-out: a real human-agreement ceiling, not a self-match reading 100
    assert 20.0 < m["bleu1"].value < 100.0
    assert m["bleu4"].value < 100.0 and m["rouge_l"].value < 100.0
    assert "oracle row" in res.extra["references"]
    assert m["r_precision_top3"].value > 0.9  # the stub embeds a reference caption as its motion
    assert m["r_precision_top3"].n == 3
    assert "bertscore_f1" not in m and res.extra["bertscore"] == "disabled"
    assert res.extra["reference_r_precision_top3"] > 0.9
    json.dumps(res.samples)
    assert len(res.samples[0]["references"]) == 3


def test_unrelated_captions_score_low(ctx):
    res = M2TTask({"bertscore": False, "replications": 2}).evaluate(
        view(FakeModel(caption=lambda r: "the quick brown fox jumps over a lazy dog")), ctx)
    assert res.metrics["bleu4"].value == 0.0
    assert res.metrics["r_precision_top1"].value < 0.2
    assert res.metrics["caption_length"].value == 9.0
    assert res.metrics["caption_length"].higher_is_better is None


def test_requests_hide_references_and_raw_features(ctx):
    seen = []

    def rec(r):
        seen.append(r)
        return "a person walks"

    M2TTask({"bertscore": False, "replications": 2}).evaluate(view(FakeModel(caption=rec)), ctx)
    assert all(r.target is None for r in seen)
    assert seen[0].features.shape[1] == 263 and abs(float(seen[0].features[:, 3].mean())) > 0.5  # raw root height


def test_non_string_caption_is_a_model_error(ctx):
    with pytest.raises(ModelOutputError, match="must be a str"):
        M2TTask({"bertscore": False}).evaluate(view(FakeModel(caption=lambda r: 3)), ctx)


@pytest.mark.slow
def test_bertscore_with_local_minilm(ctx):
    res = M2TTask({"replications": 2}).evaluate(view(FakeModel(oracle=True)), ctx)
    assert 50.0 < res.metrics["bertscore_f1"].value < 100.0  # against the other references
    assert "MiniLM" in res.extra["bertscore"]
