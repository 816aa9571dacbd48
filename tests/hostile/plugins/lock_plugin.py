"""Plugin for the lock tests (loaded with --include-path): every evaluation appends
'<pid> <task>' to the file named by $COUNT_LOG, so a test can count who computed what;
$COUNT_SLEEP seconds per pair, or $COUNT_HOLD=<task> until the file $COUNT_GATE exists,
give a second run the chance to collide."""
from __future__ import annotations

import os
import time

import numpy as np

from hmvlm_bench.contracts import (BenchModel, Capability, MetricSpec, MetricValue, MotionRequest,
                                   Task, TaskResult, stable_hash)


class CountModel(BenchModel):
    name = "count-model"
    capabilities = frozenset({Capability.GENERATE_MOTION})

    def generate_motion(self, requests):
        return [np.full(3, float(len(r.text))) for r in requests]


class _CountTask(Task):
    requires = Capability.GENERATE_MOTION
    metrics = (MetricSpec("score", True),)
    main_metric = "score"
    dataset_name = "toy"

    def preflight(self, ctx):
        return []

    def task_hash(self, ctx):
        return stable_hash({"name": self.name, "v": self.version})

    def evaluate(self, model, ctx):
        log = os.environ.get("COUNT_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as fh:  # O_APPEND: one line per write
                fh.write(f"{os.getpid()} {self.name}\n")
        time.sleep(float(os.environ.get("COUNT_SLEEP", "0")))
        if os.environ.get("COUNT_HOLD") == self.name:  # hold this pair until the test opens the gate
            gate = os.environ["COUNT_GATE"]
            deadline = time.monotonic() + 120
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.05)
        reqs = [MotionRequest(sample_id=str(i), dataset="toy", text="x" * (i + 1), length=4)
                for i in range(4)]
        vals = [float(np.asarray(p).sum()) for p in model.generate_motion(reqs)]
        return TaskResult(metrics={"score": MetricValue(float(np.mean(vals)), 0.0, True, len(vals))},
                          n_samples=len(vals), samples=[{"id": r.sample_id, "v": v} for r, v in zip(reqs, vals)],
                          dataset={"name": "toy"})


class CountA(_CountTask):
    name = "count_a"


class CountB(_CountTask):
    name = "count_b"


class CountC(_CountTask):
    name = "count_c"


def register(regs):
    regs.models.register("count-model", CountModel)
    for cls in (CountA, CountB, CountC):
        regs.tasks.register(cls.name, cls)
