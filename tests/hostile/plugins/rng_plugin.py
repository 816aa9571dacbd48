"""Plugin for the determinism test: tasks whose scores come from the process-global RNGs
(random, numpy, torch), as a model's sampling would; unless every pair is seeded anew, a
score depends on what ran before it."""
from __future__ import annotations

import random

import numpy as np

from hmvlm_bench.contracts import (BenchModel, Capability, MetricSpec, MetricValue, Task,
                                   TaskResult, stable_hash)


class RngModel(BenchModel):
    name = "rng-model"
    capabilities = frozenset({Capability.GENERATE_MOTION})


class _RngTask(Task):
    requires = Capability.GENERATE_MOTION
    metrics = (MetricSpec("score", True),)
    main_metric = "score"
    dataset_name = "toy"
    draws = 3

    def preflight(self, ctx):
        return []

    def task_hash(self, ctx):
        return stable_hash({"name": self.name, "v": self.version})

    def evaluate(self, model, ctx):
        import torch

        vals = [random.random() + float(np.random.normal()) + float(torch.randn(()))
                for _ in range(self.draws)]
        return TaskResult(metrics={"score": MetricValue(float(np.mean(vals)), 0.0, True, len(vals))},
                          n_samples=len(vals), samples=[{"id": str(i), "v": v} for i, v in enumerate(vals)],
                          dataset={"name": "toy"})


class RngA(_RngTask):
    name = "rng_a"


class RngB(_RngTask):
    name = "rng_b"
    draws = 5


class RngC(_RngTask):
    name = "rng_c"
    draws = 2


def register(regs):
    regs.models.register("rng-model", RngModel)
    for cls in (RngA, RngB, RngC):
        regs.tasks.register(cls.name, cls)
