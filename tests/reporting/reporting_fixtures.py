"""Fixture result trees built with the real schema (`ResultFile` + `write_result`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hmvlm_bench.results import MetricRecord, ResultFile, Timing, write_result

DATASET = {"name": "synthetic", "hash": "d4a7a5e7c0ffee00"}
EVALUATOR = {"name": "hmvlm-contrastive", "fingerprint": "e1e1e1e1abcdef00"}


def make_result(model: str, task: str, metrics: dict[str, Any], main: str = "",
                dataset: dict | None = None, evaluator: dict | None = None,
                extra: dict | None = None, config: dict | None = None) -> ResultFile:
    recs = {}
    for k, v in metrics.items():
        if isinstance(v, MetricRecord):
            recs[k] = v
        elif isinstance(v, dict):
            recs[k] = MetricRecord(**v)
        else:
            recs[k] = MetricRecord(value=float(v), ci=None)
    return ResultFile(task=task, task_version=1, task_hash="th-" + task, model=model,
                      fingerprint="fp-" + model, metrics=recs, main_metric=main, n_samples=32,
                      seed=0, preset="tiny", dataset=dataset or DATASET,
                      evaluator=EVALUATOR if evaluator is None else evaluator,
                      versions={"python": "3.11", "torch": "2.13.0"}, git_hash="abc123def456",
                      config=config or {"run": {"command": "hmvlm-bench run --preset tiny"}},
                      timing=Timing(started="2026-11-26T10:00:00+00:00",
                                    finished="2026-11-26T10:00:05+00:00", seconds=5.0),
                      extra=extra or {})


def reps(mean: float, spread: float, n: int = 5, seed: int = 0) -> dict[str, Any]:
    """A metric with n replication values around mean; CI 1.96 std / sqrt(n)."""
    v = np.random.default_rng(seed).normal(mean, spread, n)
    return {"value": float(v.mean()), "ci": float(1.96 * v.std() / np.sqrt(n)), "n": n,
            "values": [float(x) for x in v]}


def build_tree(root: Path) -> Path:
    """Three models on t2m, reconstruction, forgetting; `lora` lacks reconstruction."""
    t2m = {
        "ground-truth": dict(r_precision_top3=reps(0.80, 0.004, seed=1), fid=reps(0.002, 0.0005, seed=2),
                             diversity=reps(9.50, 0.05, seed=3)),
        "hmvlm": dict(r_precision_top3=reps(0.78, 0.004, seed=4), fid=reps(0.120, 0.01, seed=5),
                      diversity=reps(9.45, 0.05, seed=6)),
        "lora": dict(r_precision_top3=reps(0.70, 0.004, seed=7), fid=reps(0.300, 0.01, seed=8),
                     diversity=reps(9.70, 0.05, seed=9)),
    }
    for model, m in t2m.items():
        for k, hib in (("r_precision_top3", True), ("fid", False), ("diversity", None)):
            m[k]["higher_is_better"] = hib
        gate = {"t2m": [0.69, 0.05, 0.07, 0.09, 0.10], "general": [0.999, 0.0, 0.0, 0.0, 0.001]}
        write_result(root, make_result(model, "t2m", m, main="r_precision_top3",
                                       extra={"gate_weights": gate} if model == "hmvlm" else {}))
    parts = ("torso", "left_arm", "right_arm", "left_leg", "right_leg")
    for i, model in enumerate(("ground-truth", "hmvlm")):
        m = {"mse": {"value": 0.9 + 0.2 * i, "ci": 0.01, "higher_is_better": False}}
        for j, p in enumerate(parts):
            m[f"mse_{p}"] = {"value": 0.5 + 0.1 * j + 0.3 * i, "higher_is_better": False}
        samples = [{"sample_id": f"s{k}", "mse": 0.9 + 0.2 * i + 0.01 * k} for k in range(8)]
        write_result(root, make_result(model, "reconstruction", m, main="mse"), samples)
    for model, drop in (("hmvlm", 3.0), ("lora", 25.0)):  # mean relative drop, in %
        write_result(root, make_result(model, "forgetting", {
            "forgetting": {"value": drop, "ci": 1.0, "higher_is_better": False}},
            main="forgetting"))
    return root
