"""Timers (warm-up, then the median over repeats), peak memory and a description of the device.

On CUDA each call is bracketed by CUDA events (GPU time of the work queued by the call, read
after a synchronise); elsewhere by `time.perf_counter` with a device synchronise on both sides.
Interleaved timing runs every variant once per round so background load hits all alike; ratios
are then taken per round (paired) and their median reported.
"""
from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, Sequence


@dataclass(frozen=True)
class TimingStats:
    """Seconds per call: every repeat, its median and the warm-up count."""

    times: tuple[float, ...]
    warmup: int

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def repeats(self) -> int:
        return len(self.times)

    @property
    def spread(self) -> float:
        """Relative spread (max - min) / median: a noise indicator shown in reports."""
        m = self.median
        return (max(self.times) - min(self.times)) / m if m > 0 else 0.0


def is_cuda(device: Any) -> bool:
    return str(device).startswith("cuda")


def synchronize(device: Any) -> None:
    if is_cuda(device):
        import torch

        torch.cuda.synchronize(device)


def timed_call(fn: Callable[[], object], device: Any = "cpu") -> float:
    """Seconds of one call of `fn` (CUDA events on CUDA, else a synchronised wall clock)."""
    return _timed_call(fn, device)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with `n` intra-op threads (None: leave as is), restored after."""
    import torch

    prev = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(prev)


def _timed_call(fn: Callable[[], object], device: Any) -> float:
    if is_cuda(device):
        import torch

        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0
    synchronize(device)
    t0 = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - t0


def time_fn(fn: Callable[[], object], device: Any = "cpu", *, warmup: int = 1, repeats: int = 5,
            inner: int = 1) -> TimingStats:
    """Median seconds per call of `fn` after `warmup` untimed calls; `inner` calls per timed repeat
    (for functions too short for one timer reading)."""
    if repeats < 1 or warmup < 0 or inner < 1:
        raise ValueError(f"need repeats >= 1, warmup >= 0, inner >= 1 (got {repeats}, {warmup}, {inner})")
    for _ in range(warmup):
        fn()
    synchronize(device)
    body = fn if inner == 1 else (lambda: [fn() for _ in range(inner)])
    return TimingStats(tuple(_timed_call(body, device) / inner for _ in range(repeats)), warmup)


def calibrate_inner(fn: Callable[[], object], device: Any = "cpu", min_time: float = 0.01) -> int:
    """How many calls make one timed repeat last at least `min_time` seconds (after one warm-up)."""
    fn()
    once = max(_timed_call(fn, device), 1e-7)
    return max(1, int(min_time / once + 0.999))


def time_interleaved(fns: Mapping[str, Callable[[], object]], device: Any = "cpu", *, warmup: int = 1,
                     rounds: int = 5, min_time: float = 0.0) -> dict[str, TimingStats]:
    """Time every function once per round, in turn, for `rounds` rounds (paired measurements).

    With `min_time` > 0 each function is first calibrated to repeat enough calls per reading."""
    inner = {k: calibrate_inner(f, device, min_time) if min_time > 0 else 1 for k, f in fns.items()}
    for f in fns.values():
        for _ in range(warmup):
            f()
    synchronize(device)
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            n = inner[k]
            body = f if n == 1 else (lambda f=f, n=n: [f() for _ in range(n)])
            times[k].append(_timed_call(body, device) / n)
    return {k: TimingStats(tuple(v), warmup) for k, v in times.items()}


def paired_ratio(stats: Mapping[str, TimingStats], num: str, den: str) -> float:
    """Median over rounds of time(num) / time(den) from `time_interleaved` output."""
    return median_ratio(stats[num].times, stats[den].times)


def median_ratio(num: Sequence[float], den: Sequence[float]) -> float:
    """Median of the per-round ratios num[i] / den[i] (paired measurements)."""
    return statistics.median(a / b for a, b in zip(num, den))


# ------------------------------------------------------------------------------- memory
@dataclass
class PeakMemory:
    """Filled by `peak_memory`: bytes; `kind` says what was measured."""

    bytes: int = 0
    kind: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mib(self) -> float:
        return self.bytes / 2**20


def process_peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


@contextmanager
def peak_memory(device: Any = "cpu") -> Iterator[PeakMemory]:
    """CUDA: peak `torch.cuda.max_memory_allocated` inside the block (stats reset on entry).
    CPU: the process's peak RSS at exit (it never decreases, so it bounds the block from above)."""
    out = PeakMemory()
    if is_cuda(device):
        import torch

        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        yield out
        torch.cuda.synchronize(device)
        out.bytes, out.kind = int(torch.cuda.max_memory_allocated(device)), "cuda_max_allocated"
    else:
        yield out
        out.bytes, out.kind = process_peak_rss(), "process_peak_rss"


# ------------------------------------------------------------------------------- device
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


def _nvidia_driver() -> str | None:
    try:
        with open("/proc/driver/nvidia/version", encoding="utf-8") as fh:
            first = fh.readline()
        for tok in first.split():
            if tok[:1].isdigit() and "." in tok:
                return tok
    except OSError:
        pass
    import shutil
    import subprocess

    if shutil.which("nvidia-smi"):
        try:
            res = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10, check=False)
            return res.stdout.strip().splitlines()[0] if res.stdout.strip() else None
        except (OSError, subprocess.TimeoutExpired):
            return None
    return None


def device_info(device: Any = "cpu") -> dict[str, Any]:
    """What the numbers were measured on: device name, driver, torch/CUDA versions, CPU, threads."""
    import torch

    info: dict[str, Any] = {
        "device": str(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }
    if is_cuda(device):
        if not torch.cuda.is_available():
            raise RuntimeError("CUDA requested but torch.cuda.is_available() is False")
        idx = torch.device(device).index or 0
        props = torch.cuda.get_device_properties(idx)
        info.update({
            "gpu_name": torch.cuda.get_device_name(idx),
            "gpu_memory_gib": round(props.total_memory / 2**30, 1),
            "gpu_capability": f"{props.major}.{props.minor}",
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "driver": _nvidia_driver(),
        })
    return info


def device_slug(info: Mapping[str, Any]) -> str:
    """File-system name of a device: `cuda-nvidia-h100-80gb-hbm3`, `cpu-intel-xeon-...-2t`."""
    import re

    if str(info["device"]).startswith("cuda"):
        name = f"cuda-{info.get('gpu_name', 'gpu')}"
    else:
        name = f"cpu-{info.get('cpu_model', 'cpu')}-{info.get('torch_threads', 0)}t"
    name = re.sub(r"\(r\)|\(tm\)|cpu @.*?(?=-\d+t$)|@", " ", name.lower())
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:80]
