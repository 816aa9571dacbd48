"""Experiment folders: delta merge, validation, and an end-to-end run gathered per variant."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hmvlm_bench.contracts import BenchModel, Capability, MetricSpec, MetricValue, Task, TaskResult
from hmvlm_bench.errors import UserError
from hmvlm_bench.experiments import deep_merge, load_experiment, run_experiment
from hmvlm_bench.registry import Registries
from hmvlm_bench.reporting.compare import compare_rows
from hmvlm_bench.reporting.leaderboard import write_markdown_leaderboard
from hmvlm_bench.results import iter_results
from hmvlm_bench.runner import RunConfig

REPO = Path(__file__).resolve().parents[2]


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return folder


STUDY = {
    "experiment.yaml": "study: toy\ndescription: a toy study\ntasks: [toy_task]\nbaseline: base\n"
                       "defaults:\n  model: toy\n  model_args: {quality: '0.5', width: '4'}\n",
    "base.yaml": "# the defaults, unchanged\n",
    "better.yaml": "model_args: {quality: 0.9}\n",
    "nogate/variant.yaml": "model_args: {quality: 0.2, gate: false}\n",
}


def test_deep_merge_keeps_base() -> None:
    base = {"a": {"x": 1, "y": 2}, "b": 1}
    assert deep_merge(base, {"a": {"y": 3}, "c": 4}) == {"a": {"x": 1, "y": 3}, "b": 1, "c": 4}
    assert base == {"a": {"x": 1, "y": 2}, "b": 1}


def test_variant_delta_merge(tmp_path: Path) -> None:
    exp = load_experiment(_write(tmp_path / "toy", STUDY), base_model_args={"width": "8", "cli": "1"})
    assert sorted(exp.variants) == ["base", "better", "nogate"]
    assert exp.variants["base"].model_args == {"quality": "0.5", "width": "8", "cli": "1"}
    assert exp.variants["better"].model_args == {"quality": "0.9", "width": "8", "cli": "1"}
    assert exp.variants["nogate"].model_args == {"quality": "0.2", "width": "8", "cli": "1", "gate": "false"}
    assert all(v.model == "toy" for v in exp.variants.values())


@pytest.mark.parametrize("files,match", [
    ({"bad.yaml": "modle: toy\n"}, "bad.yaml: modle: Extra inputs"),
    ({"experiment.yaml": "study: s\ntasks: [t]\nbaseline: nope\ndefaults: {model: toy}\n"},
     "baseline 'nope' is not a variant"),
    ({"experiment.yaml": "study: s\ntasks: [t]\nbaseline: base\n"}, "no model"),
])
def test_invalid_folders(tmp_path: Path, files: dict[str, str], match: str) -> None:
    with pytest.raises(UserError, match=match):
        load_experiment(_write(tmp_path / "s", {**STUDY, **files}))


def test_shipped_studies_parse() -> None:
    z = load_experiment(REPO / "experiments" / "zero_expert")
    assert z.spec.baseline == "hmvlm" and z.spec.tasks == ["forgetting", "t2m"]
    seeded = {f"{m}-seed{s}": m for m in ("hmvlm", "lora", "no-zero", "no-gate-loss") for s in (1, 2)}
    assert {n: v.model for n, v in z.variants.items()} == {
        "hmvlm": "hmvlm", "no-zero": "no-zero", "no-gate-loss": "no-gate-loss", "lora": "lora",
        "full-ft": "full-ft", **seeded}  # three training seeds per compared variant (issue 14)
    assert z.variants["hmvlm-seed1"].model_args == {"train_seed": "1"}
    assert z.variants["no-gate-loss-seed2"].model_args == {"train_seed": "2"}
    t = load_experiment(REPO / "experiments" / "tokenizer")
    assert t.variants["whole-body-x5"].model_for("reconstruction") == "tokenizer-whole-body-x5"
    assert t.variants["whole-body-x5"].model_for("t2m") == "whole-body-x5"
    assert t.variants["whole-body-x5-seed2"].model_args == {"train_seed": "2"}


class ToyModel(BenchModel):
    name = "toy"
    capabilities = frozenset({Capability.GENERATE_MOTION})


class ToyTask(Task):
    name = "toy_task"
    requires = Capability.GENERATE_MOTION
    metrics = (MetricSpec("score", True),)
    main_metric = "score"

    def task_hash(self, ctx: Any) -> str:  # no dataset behind this toy task
        return "toy-v1"

    def evaluate(self, model: Any, ctx: Any) -> TaskResult:
        q = float(model.unwrapped.ctx.model_args["quality"])
        vals = [q + 0.01 * k for k in range(-2, 3)]
        return TaskResult(metrics={"score": MetricValue(float(np.mean(vals)), 0.01, True, 5, vals)},
                          n_samples=5, samples=[{"sample_id": "a", "score": q}],
                          dataset={"name": "toy", "hash": "0"})


def test_run_experiment_end_to_end(tmp_path: Path) -> None:
    regs = Registries()
    regs.models.register("toy", ToyModel)
    regs.tasks.register("toy_task", ToyTask)
    folder = _write(tmp_path / "toy", STUDY)
    out = tmp_path / "runs"
    cfg = RunConfig(tasks=["all"], models=["ignored"], preset="tiny", output_dir=out,
                    cache_dir=tmp_path / "cache", progress=False)
    summary = run_experiment(folder, cfg, regs, None)
    assert [(o.model, o.status) for o in summary.outcomes] == [
        ("base", "computed"), ("better", "computed"), ("nogate", "computed")]
    results = {r.model: r for r in iter_results(out)}
    assert sorted(results) == ["base", "better", "nogate"]
    assert results["better"].metrics["score"].value == pytest.approx(0.9)
    assert results["nogate"].extra["experiment"]["model_args"]["gate"] == "false"
    assert (out / "nogate" / "toy_task.samples.jsonl").is_file()
    rows = compare_rows(out, "base")
    assert [(r.variant, r.test) for r in rows] == [("better", "welch-t"), ("nogate", "welch-t")]
    assert rows[0].delta == pytest.approx(0.4)
    assert "Study **toy**" in write_markdown_leaderboard(out, out).read_text()
    # rerun: the runner's resume sees the staged results
    again = run_experiment(folder, cfg, regs, None)
    assert {o.status for o in again.outcomes} == {"cached"}


def test_unknown_model_fails_before_running(tmp_path: Path) -> None:
    regs = Registries()
    regs.tasks.register("toy_task", ToyTask)
    cfg = RunConfig(tasks=["all"], models=[], preset="tiny", output_dir=tmp_path / "o",
                    cache_dir=tmp_path / "c", progress=False)
    with pytest.raises(UserError, match="unknown model 'toy'"):
        run_experiment(_write(tmp_path / "toy", STUDY), cfg, regs, None)
    assert not (tmp_path / "o").exists()
