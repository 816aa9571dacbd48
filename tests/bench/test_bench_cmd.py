"""`bench_cmd` end to end at the internal tiny shapes, result-file validity, errors."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hmvlm_bench.bench.cli import bench_cmd
from hmvlm_bench.bench.records import BenchRecord
from hmvlm_bench.bench.report import run_metrics, write_throughput
from hmvlm_bench.errors import UserError
from hmvlm_bench.results import load_result


def _run(records, shapes="tiny"):
    rows = [{"suite": "s", **r.to_dict()} for r in records]
    return {"config": {"name": shapes}, "records": rows, "failed": {}, "seconds": 1.0}


def test_run_metrics_names_values_and_directions():
    base = BenchRecord("t.base", 2.0, "ms")
    tps = BenchRecord("tps", 100.0, "tok/s", higher_is_better=True)
    from hmvlm_bench.bench.records import ratio_record

    rows = _run([base, ratio_record("t.moe", 3.0, base), tps])["records"]
    m = run_metrics("mini", rows)
    assert m["mini.s.t.moe"] == {"value": 3.0, "higher_is_better": False}
    assert m["mini.s.t.moe.over.t.base"] == {"value": 1.5, "higher_is_better": False}
    assert m["mini.s.tps"]["higher_is_better"] is True
    assert "mini.s.tps.over.None" not in m and len(m) == 4


def test_write_throughput_merges_shapes_runs(tmp_path: Path):
    info = {"device": "cpu", "cpu_model": "x", "torch": torch.__version__, "torch_threads": 1}
    r1 = _run([BenchRecord("a", 1.0, "ms")], "tiny")
    r2 = _run([BenchRecord("a", 2.0, "ms")], "mini")
    write_throughput(tmp_path, "cpu-x-1t", info, "tiny", r1, "s", "f", 1.0)
    path, md = write_throughput(tmp_path, "cpu-x-1t", info, "mini", r2, "s", "f", 1.0)
    res = load_result(path)
    assert path == tmp_path / "cpu-x-1t" / "throughput.json" and md.name == "throughput_cpu-x-1t.md"
    assert res.task == "throughput" and res.model == "cpu-x-1t" and res.preset == "mini,tiny"
    assert res.metrics["tiny.s.a"].value == 1.0 and res.metrics["mini.s.a"].value == 2.0
    assert "random weights at real shapes" in res.extra["note"]
    # Rerunning a shapes replaces only its own figures.
    write_throughput(tmp_path, "cpu-x-1t", info, "tiny", _run([BenchRecord("a", 5.0, "ms")]), "s", "f", 1.0)
    res = load_result(path)
    assert res.metrics["tiny.s.a"].value == 5.0 and res.metrics["mini.s.a"].value == 2.0
    assert "## shapes `mini`" in md.read_text() and "## shapes `tiny`" in md.read_text()


@pytest.mark.slow
def test_bench_cmd_tiny_quick_all_suites(tmp_path: Path):
    # no timed assertion: speed is measured by `hmvlm-bench bench`, never asserted in tests
    paths = bench_cmd(device="cpu", shapes="tiny", batch_sizes=[1, 2], out=tmp_path, quick=True)
    json_path, md_path = paths
    res = load_result(json_path)
    runs = res.extra["runs"]["tiny"]
    assert runs["failed"] == {}, runs["failed"]
    suites = {r["suite"] for r in runs["records"]}
    assert {"core_metrics", "core_evaluator", "moe_lora_layer", "generation", "latency_protocol",
            "tokenizer", "training"} <= suites
    # Every issue target is reported as a ratio measured in this run.
    targets = {r["name"] for r in runs["records"] if r["target"]}
    assert {"fwdbwd.moe_batched", "fwdbwd.speedup_batched_vs_loop", "b1.moe_merged.decode_per_token",
            "step.optimised"} <= targets
    for key in ("tiny.moe_lora_layer.fwdbwd.moe_batched.over.fwdbwd.peft_lora",
                "tiny.generation.b2.moe_batched.tokens_per_s.over.b2.base.tokens_per_s",
                "tiny.latency_protocol.moe_lora.ms_per_token.over.base.ms_per_token",
                "tiny.training.step.optimised.over.step.plain_fp32"):
        assert key in res.metrics and res.metrics[key].value > 0
    assert res.metrics["tiny.generation.b1.base.tokens_per_s"].higher_is_better is True
    assert res.metrics["tiny.generation.b1.base.ttft"].higher_is_better is False
    text = md_path.read_text()
    assert "### Targets" in text and "random weights" in text


def test_bench_cmd_suite_subset_and_failures_are_reported(tmp_path: Path):
    paths = bench_cmd(device="cpu", shapes="tiny", batch_sizes=[1], out=tmp_path, quick=True,
                      suites=["core_metrics"])
    res = load_result(paths[0])
    assert {r["suite"] for r in res.extra["runs"]["tiny"]["records"]} == {"core_metrics"}


@pytest.mark.parametrize("kwargs,match", [
    (dict(device="cpu", shapes="llama-7b", quick=False), "needs --device cuda"),
    (dict(device="tpu", shapes="tiny", quick=True), "unknown device"),
    (dict(device="cpu", shapes="huge", quick=True), "unknown shapes"),
    (dict(device="cpu", shapes="tiny", quick=True, batch_sizes=[0]), "batch-sizes"),
])
def test_bench_cmd_user_errors(tmp_path: Path, kwargs, match):
    kwargs.setdefault("batch_sizes", [1])
    with pytest.raises(UserError, match=match):
        bench_cmd(out=tmp_path, **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_bench_cmd_cuda_without_gpu_is_a_user_error(tmp_path: Path):
    with pytest.raises(UserError, match="no CUDA device"):
        bench_cmd(device="cuda", shapes="tiny", batch_sizes=[1], out=tmp_path, quick=True)


def test_cli_refuses_llama7b_on_cpu_in_one_line(capsys):
    from hmvlm_bench.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["bench", "--device", "cpu", "--shapes", "llama-7b"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --shapes llama-7b needs --device cuda") and "\n" not in err


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_bench_cmd_cuda_tiny(tmp_path: Path):
    paths = bench_cmd(device="cuda", shapes="tiny", batch_sizes=[1, 2], out=tmp_path, quick=True)
    res = load_result(paths[0])
    assert res.model.startswith("cuda-") and res.extra["device"]["gpu_name"]
    assert res.extra["runs"]["tiny"]["failed"] == {}
