"""Learning curve: R@3 of generated val motions (the real motions score as the ceiling),
and the plot of a train_log's history."""
from __future__ import annotations

import json

import numpy as np

from reference_model.hmvlm.learning_curve import ValSet, plot_curves, val_point


class _Echo:
    """An evaluator whose motion embedding is the motion's mean frame (first 8 dims) and
    whose text embedding is looked up: lets the test know which motion matches which text."""

    def __init__(self, table):
        self.table = table

    def encode_text(self, caps, tokens=None):
        return np.stack([self.table[c] for c in caps])

    def encode_motion(self, motions, lengths):
        return np.stack([np.asarray(m)[:, :8].mean(0) for m in motions])


def test_val_point_scores_generated_motions(tiny_net, monkeypatch):
    import reference_model.hmvlm.model as M
    from hmvlm_bench.contracts import Prediction

    rng = np.random.default_rng(0)
    real = [rng.normal(size=(8, 263)).astype(np.float32) + i for i in range(32)]
    table = {f"cap {i}": real[i][:, :8].mean(0) for i in range(32)}
    ev = _Echo(table)
    val = ValSet(list(table), real, [8] * 32, ev.encode_text(list(table)), ev.encode_motion(real, [8] * 32))
    # a "model" that returns the real motion of each caption scores R@3 = 1; reversed, ~chance
    monkeypatch.setattr(M, "generate_motions", lambda net, reqs, **kw: [Prediction(value=real[int(r.text.split()[1])]) for r in reqs])
    assert val_point(tiny_net, val, ev)["val_r3"] == 1.0
    monkeypatch.setattr(M, "generate_motions", lambda net, reqs, **kw: [Prediction(value=real[31 - int(r.text.split()[1])]) for r in reqs])
    out = val_point(tiny_net, val, ev)
    assert out["val_r3"] < 0.2 and out["real_r3"] == 1.0


def test_plot_curves(tmp_path):
    hist = [{"step": i, "loss": 5 - i / 50} for i in range(100)]
    for i in (49, 99):
        hist[i].update(val_r3=0.1 + i / 300, real_r3=0.7)
    log = tmp_path / "train_log.json"
    log.write_text(json.dumps({"history": hist}))
    png = plot_curves({"hmvlm": log}, tmp_path / "curve.png")
    assert png.stat().st_size > 5000
