"""Bench figures carry their spread over rounds; a target is met only if every round meets
it; a busy machine is flagged in the console and the Markdown."""
from __future__ import annotations

import pytest

from hmvlm_bench.bench.records import BenchRecord, ratio_record
from hmvlm_bench.bench.report import load_warning, render_markdown


def test_rounds_give_median_and_spread_and_judge_the_target() -> None:
    base = BenchRecord("decode.base", 10.0, "us")
    steady = ratio_record("decode.moe_merged", 10.1, base, target="<= 1.05", rounds=[1.0, 1.01, 1.02])
    assert steady.ratio == pytest.approx(1.01) and steady.spread == (1.0, 1.02) and steady.verdict == "yes"
    # the busy-CPU case of issue 19: a median that looks fine, rounds all over the place
    noisy = ratio_record("decode.moe_merged", 3.6, base, target="<= 1.05", rounds=[0.36, 0.9, 1.3])
    assert noisy.target_met is False and noisy.verdict == "no (spread)"
    assert ratio_record("x", 20.0, base, target="<= 1.05", rounds=[2.0, 2.1]).verdict == "no"
    assert BenchRecord("y", 1.0, "x").verdict == ""
    with pytest.raises(ValueError, match="bracket"):
        BenchRecord("z", 5.0, "ms", spread=(1.0, 2.0))


def test_load_warning_and_markdown() -> None:
    assert load_warning({"loadavg_1m": 0.2, "cpus": 2}) is None
    warn = load_warning({"loadavg_1m": 4.7, "cpus": 2})
    assert warn and "busy" in warn and "4.7 on 2 CPUs" in warn
    base = BenchRecord("decode.base", 10.0, "us")
    rec = ratio_record("decode.moe_merged", 3.6, base, target="<= 1.05", rounds=[0.36, 0.9, 1.3])
    rows = [{**r.to_dict(), "suite": "moe_lora_layer"} for r in (base, rec)]
    run = {"config": {}, "records": rows, "load": {"before": {"loadavg_1m": 4.7, "cpus": 2},
                                                   "after": {"loadavg_1m": 5.0, "cpus": 2}}}
    md = render_markdown("cpu-test", {"device": "cpu"}, {"mini": run})
    assert "**Warning:** the machine was busy" in md
    assert "| 0.9 | 0.36–1.3 | <= 1.05 | **no (spread)** |" in md
