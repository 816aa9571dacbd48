"""One home per mechanism (issue 16): one store factory, every trainer through the trainers
registry, one set of timers for the benchmarks, the Llama-2-7B shapes stated once."""
from __future__ import annotations

import ast
from pathlib import Path

from hmvlm_bench.artifacts import ArtifactStore, open_store, shipped_roots

REPO = Path(__file__).resolve().parents[2]


def test_store_factory(tmp_path: Path, monkeypatch) -> None:
    from reference_model.hmvlm.training import make_store

    assert open_store(tmp_path) == ArtifactStore(tmp_path, shipped_roots())
    assert open_store(tmp_path, shipped=False) == ArtifactStore(tmp_path, ())
    assert make_store(tmp_path) == open_store(tmp_path)
    monkeypatch.setenv("HMVLM_BENCH_CACHE", str(tmp_path / "env"))
    assert open_store().root == tmp_path / "env"
    assert shipped_roots() == ((REPO / "checkpoints",) if (REPO / "checkpoints").is_dir() else ())


def _calls_named(name: str, roots: list[str]) -> list[str]:
    hits = []
    for root in roots:
        for f in sorted((REPO / root).rglob("*.py")):
            tree = ast.parse(f.read_text(encoding="utf-8"))
            for n in ast.walk(tree):
                if isinstance(n, ast.Call):
                    fn = n.func
                    called = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
                    if called == name:
                        hits.append(f"{f.relative_to(REPO)}:{n.lineno}")
    return hits


def test_the_shipped_store_is_built_in_one_place() -> None:
    """Outside tests, `ArtifactStore(...)` is called by the factory and by the runner (whose
    RunConfig names its shipped roots) only."""
    hits = _calls_named("ArtifactStore", ["hmvlm_bench", "reference_model", "baselines", "tasks", "scripts"])
    assert sorted(h.split(":")[0] for h in hits) == ["hmvlm_bench/artifacts.py", "hmvlm_bench/runner.py"], hits


def test_every_trainer_is_in_the_registry(monkeypatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import hmvlm_bench.evaluators.factory as factory
    from hmvlm_bench.cli.main import app
    from hmvlm_bench.plugins import load_registries

    regs = load_registries()
    assert {"evaluator", "model", "tokenizer"} <= set(regs.trainers.names())
    seen = {}

    def fake(**kw):
        seen.update(kw)
        return tmp_path / "evaluator"

    monkeypatch.setattr(factory, "train_evaluator_cmd", fake)  # the registry resolves it on use
    res = CliRunner().invoke(app, ["train", "evaluator", "--preset", "tiny", "--out", str(tmp_path / "e")])
    assert res.exit_code == 0, res.output
    assert seen == {"preset": "tiny", "data": None, "out": tmp_path / "e", "cache_dir": None}
    assert str(tmp_path / "evaluator") in res.output


def test_benchmarks_time_with_the_core_timers() -> None:
    """No private perf_counter/Timer loops in the benchmark code beside the core timers (the
    decode timer, which reads the clock at the first token too, is the one exception)."""
    for rel in ("reference_model/bench_suites.py", "reference_model/bench_layers.py"):
        text = (REPO / rel).read_text(encoding="utf-8")
        assert "torch.utils.benchmark" not in text, rel
        uses = text.count("time.perf_counter()")
        assert uses == (4 if rel.endswith("bench_suites.py") else 0), (rel, uses)
    assert not (REPO / "reference_model" / "moe_lora" / "bench.py").exists()  # out of the tuner package


def test_layer_benchmark_on_the_core_timers() -> None:
    from reference_model.bench_layers import layer_benchmark

    res = layer_benchmark(16, "cpu", batch=1, tokens=4, num_experts=2, r=2, min_run_time=0.002, rounds=2,
                          num_threads=1)
    assert res["num_threads"] == 1.0 and res["base_fwd_s"] > 0
    assert {"batched_over_lora_fwd", "merged_over_base_decode", "merge_unmerge_s"} <= set(res)


def test_llama2_7b_shapes_stated_once() -> None:
    from hmvlm_bench.bench.shapes import resolve_shapes
    from hmvlm_bench.model_shapes import LLAMA2_7B
    from reference_model import paper_shapes

    assert paper_shapes.LLAMA2_7B is LLAMA2_7B
    bench = resolve_shapes("llama-7b", "cuda", quick=False).llama
    assert bench == {k: LLAMA2_7B[k] for k in bench}  # the fields the suites record
    hits = [f for root in ("hmvlm_bench", "reference_model", "baselines", "tasks", "scripts", "benchmarks")
            for f in sorted((REPO / root).rglob("*.py")) if "11008" in f.read_text(encoding="utf-8")]
    assert [str(f.relative_to(REPO)) for f in hits] == ["hmvlm_bench/model_shapes.py"], hits
