"""Plugins for the hostile suite (loaded with --include-path).

`weights-model` reads a file named by its `checkpoint` path arg (a content fingerprint
must notice a same-size edit); `broken-model` fails to load; `fault_boom` raises an
internal error; `fault_ok` is a quick task that works."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hmvlm_bench.contracts import (BenchModel, Capability, MetricSpec, MetricValue, ModelArg,
                                   MotionRequest, Task, TaskResult, stable_hash)


class WeightsModel(BenchModel):
    name = "weights-model"
    capabilities = frozenset({Capability.GENERATE_MOTION})
    arguments = {"checkpoint": ModelArg("a .npy file of weights", "path")}

    def generate_motion(self, requests):
        w = np.load(Path(self.ctx.model_args["checkpoint"]))
        return [np.full(3, float(w.sum()) + len(r.text)) for r in requests]


class BrokenModel(BenchModel):
    name = "broken-model"
    capabilities = frozenset({Capability.GENERATE_MOTION})
    arguments: dict = {}

    def __init__(self, ctx):
        raise RuntimeError("weights have the wrong shape (an internal error)")


class _Task(Task):
    requires = Capability.GENERATE_MOTION
    metrics = (MetricSpec("score", True),)
    main_metric = "score"
    dataset_name = "toy"

    def preflight(self, ctx):
        return []

    def task_hash(self, ctx):
        return stable_hash({"name": self.name, "v": self.version})

    def evaluate(self, model, ctx):
        reqs = [MotionRequest(sample_id=str(i), dataset="toy", text="x" * (i + 1), length=4)
                for i in range(4)]
        vals = [float(np.asarray(p).sum()) for p in model.generate_motion(reqs)]
        return TaskResult(metrics={"score": MetricValue(float(np.mean(vals)), 0.0, True, len(vals))},
                          n_samples=len(vals), samples=[{"id": r.sample_id, "v": v} for r, v in zip(reqs, vals)],
                          dataset={"name": "toy"})


class FaultOk(_Task):
    name = "fault_ok"


class FaultBoom(_Task):
    name = "fault_boom"

    def evaluate(self, model, ctx):
        raise ZeroDivisionError("a bug inside the task")


def register(regs):
    regs.models.register("weights-model", WeightsModel)
    regs.models.register("broken-model", BrokenModel)
    regs.tasks.register("fault_ok", FaultOk)
    regs.tasks.register("fault_boom", FaultBoom)
