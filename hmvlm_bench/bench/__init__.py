"""Throughput benchmarks (`hmvlm-bench bench`): timers, records, suites, result files.

Suites are callables `(device, shapes, batch_sizes, quick) -> list[BenchRecord]` found through
the `benchmarks` registry; the core ships its own metrics suite and never imports plugins by name.
Import stays light: torch is imported inside functions.
"""
from __future__ import annotations

from hmvlm_bench.bench.records import BenchRecord, ratio_record

__all__ = ["BenchRecord", "ratio_record"]
