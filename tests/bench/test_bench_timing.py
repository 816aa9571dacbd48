"""Timers, peak memory and device description of `hmvlm_bench.bench.timing`."""
from __future__ import annotations

import time

import pytest
import torch

from hmvlm_bench.bench.timing import (
    TimingStats, calibrate_inner, device_info, device_slug, paired_ratio, peak_memory, process_peak_rss, time_fn,
    time_interleaved,
)


def test_time_fn_counts_warmup_and_repeats_and_measures_sleep():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.004)

    stats = time_fn(fn, "cpu", warmup=2, repeats=3)
    assert len(calls) == 5 and stats.repeats == 3 and stats.warmup == 2
    # sleep(4 ms) never returns early; a loaded machine may add latency, not remove it
    assert 0.004 <= stats.median < 0.2


def test_time_fn_inner_divides_by_calls_per_repeat():
    calls = []
    stats = time_fn(lambda: (calls.append(1), time.sleep(0.002)), "cpu", warmup=0, repeats=2, inner=4)
    assert len(calls) == 8
    assert 0.002 <= stats.median < 0.1  # per call, not per repeat of 4 calls


def test_time_fn_rejects_bad_arguments():
    with pytest.raises(ValueError):
        time_fn(lambda: None, repeats=0)
    with pytest.raises(ValueError):
        time_fn(lambda: None, inner=0)


def test_calibrate_inner_reaches_min_time():
    n = calibrate_inner(lambda: time.sleep(0.001), "cpu", min_time=0.01)
    assert 1 <= n <= 10  # >= 1 ms per call: at most 10 calls for 10 ms


def test_interleaved_rounds_alternate_and_paired_ratio():
    order: list[str] = []
    fns = {"a": lambda: (order.append("a"), time.sleep(0.002)), "b": lambda: (order.append("b"), time.sleep(0.006))}
    stats = time_interleaved(fns, "cpu", warmup=1, rounds=3)
    assert order == ["a", "b"] * 4  # warm-up, then 3 rounds in turn
    assert stats["a"].repeats == stats["b"].repeats == 3
    assert paired_ratio(stats, "b", "a") > 1.2  # 6 ms vs 2 ms sleeps, whatever the load


def test_timing_stats_median_and_spread():
    s = TimingStats((1.0, 3.0, 2.0), warmup=0)
    assert s.median == 2.0 and s.spread == pytest.approx(1.0)
    stats = {"x": TimingStats((2.0, 4.0, 9.0), 0), "y": TimingStats((1.0, 1.0, 3.0), 0)}
    assert paired_ratio(stats, "x", "y") == 3.0  # per-round ratios 2, 4, 3 -> median 3


def test_cpu_peak_memory_is_process_peak_rss():
    with peak_memory("cpu") as mem:
        x = torch.ones(8 * 2**20)  # 32 MiB touched
    assert mem.kind == "process_peak_rss"
    assert mem.bytes >= x.numel() * 4 and mem.bytes <= process_peak_rss()


def test_device_info_and_slug_cpu():
    info = device_info("cpu")
    assert info["device"] == "cpu" and info["torch"] == torch.__version__ and info["torch_threads"] >= 1
    assert device_slug(info).startswith("cpu-")


@pytest.mark.parametrize("info,slug", [
    ({"device": "cpu", "cpu_model": "Intel(R) Xeon(R) CPU @ 2.20GHz", "torch_threads": 2}, "cpu-intel-xeon-2t"),
    ({"device": "cpu", "cpu_model": "AMD EPYC", "torch_threads": 16}, "cpu-amd-epyc-16t"),
    ({"device": "cuda", "gpu_name": "NVIDIA H100 80GB HBM3"}, "cuda-nvidia-h100-80gb-hbm3"),
])
def test_device_slug(info, slug):
    assert device_slug(info) == slug


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_events_and_peak_memory():
    a = torch.randn(2048, 2048, device="cuda")
    stats = time_fn(lambda: a @ a, "cuda", warmup=2, repeats=5)
    assert 0 < stats.median < 1.0
    with peak_memory("cuda") as mem:
        b = torch.empty(64 * 2**20, dtype=torch.uint8, device="cuda")
    assert mem.kind == "cuda_max_allocated" and mem.bytes >= b.numel()
    info = device_info("cuda")
    assert info["gpu_name"] and info["cuda"]
