"""BenchRecord validation, ratios to a baseline and target checks."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from hmvlm_bench.bench.records import BenchRecord, parse_target, ratio_record


def test_ratio_record_divides_by_baseline_and_inherits_unit_and_direction():
    base = BenchRecord("fwd.base", 4.0, "ms")
    r = ratio_record("fwd.moe", 5.0, base, target="<= 1.25")
    assert r.ratio == 1.25 and r.baseline == "fwd.base" and r.unit == "ms" and r.higher_is_better is False
    assert r.target_met is True
    assert ratio_record("fwd.moe", 5.2, base, target="<= 1.25").target_met is False


def test_paired_ratio_overrides_value_ratio():
    base = BenchRecord("b.base", 10.0, "tok/s", higher_is_better=True)
    r = ratio_record("b.moe", 8.0, base, ratio=0.9)
    assert r.ratio == 0.9 and r.higher_is_better is True


def test_target_on_value_when_no_baseline():
    assert BenchRecord("speedup", 2.5, "x", higher_is_better=True, target=">= 2").target_met is True
    assert BenchRecord("speedup", 1.5, "x", higher_is_better=True, target=">= 2").target_met is False
    assert BenchRecord("speedup", 1.5, "x").target_met is None


@pytest.mark.parametrize("kwargs", [
    dict(name="", value=1.0, unit="s"),
    dict(name="a b", value=1.0, unit="s"),
    dict(name="a", value=math.nan, unit="s"),
    dict(name="a", value=1.0, unit="s", baseline="b"),  # baseline without ratio
    dict(name="a", value=1.0, unit="s", baseline="b", ratio=math.inf),
    dict(name="a", value=1.0, unit="s", target="about 2"),
])
def test_invalid_records_raise(kwargs):
    with pytest.raises(ValueError):
        BenchRecord(**kwargs)


def test_zero_baseline_raises():
    with pytest.raises(ValueError):
        ratio_record("x", 1.0, BenchRecord("b", 0.0, "s"))


def test_parse_target():
    assert parse_target("<= 1.05") == ("<=", 1.05)
    assert parse_target(">=2") == (">=", 2.0)


@given(st.floats(1e-6, 1e6), st.floats(1e-6, 1e6))
def test_ratio_times_baseline_is_value(value, base_value):
    r = ratio_record("v", value, BenchRecord("b", base_value, "s"))
    assert r.ratio * base_value == pytest.approx(value, rel=1e-9)
    assert r.to_dict()["target_met"] is None
