"""Checks that stop a run before any work starts: model args, device, output folders.

Each raises a UserError naming the bad input in one line; nothing is created or loaded
before they pass (a run that fails after an hour on a read-only output dir is the
failure this prevents).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

from hmvlm_bench.contracts import BenchModel
from hmvlm_bench.errors import UserError, did_you_mean

_DEVICE = re.compile(r"^(cpu|mps|cuda)(:(\d+))?$")


def check_model_args(args: Mapping[str, str], models: Mapping[str, type[BenchModel]]) -> None:
    """Every key must be read by at least one selected model (keys may target one model of
    several, e.g. `checkpoint` with `--models hmvlm,ground-truth`), and every value must
    fit each model that declares the key. Models that declare nothing accept anything."""
    declared_by_all = all(cls.arguments is not None for cls in models.values())
    known: dict[str, list[str]] = {}
    for name, cls in models.items():
        for key in cls.arguments or {}:
            known.setdefault(key, []).append(name)
    for key, value in args.items():
        if key not in known:
            if declared_by_all:
                accepted = ", ".join(sorted(known)) or "none"
                raise UserError(f"unknown --model-args key '{key}' for {', '.join(models)}"
                                f"{did_you_mean(key, known)} (accepted: {accepted})")
            continue
        for name in known[key]:
            spec = models[name].arguments[key]  # type: ignore[index]
            why = spec.problem(str(value))
            if why:
                raise UserError(f"--model-args {key}={value}: {why} ({name}: {spec.help})")


def check_device(device: str) -> None:
    """`cpu`, `cuda`, `cuda:N` (a visible GPU) or `mps` (available)."""
    m = _DEVICE.match(device.strip())
    if not m:
        raise UserError(f"--device '{device}': expected cpu, cuda, cuda:N or mps"
                        f"{did_you_mean(device, ['cpu', 'cuda', 'mps'])}")
    kind, index = m.group(1), m.group(3)
    if kind == "cpu":
        if index is not None:
            raise UserError(f"--device '{device}': cpu takes no index")
        return
    import torch

    if kind == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise UserError(f"--device '{device}': MPS is not available here")
        return
    if not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise UserError(f"--device '{device}': no CUDA device visible (torch {torch.__version__}, "
                        f"{build}); use --device cpu")
    n = torch.cuda.device_count()
    if index is not None and int(index) >= n:
        raise UserError(f"--device '{device}': only {n} CUDA device(s) visible (cuda:0..cuda:{n - 1})")


def check_results_dir(path: Path) -> None:
    """A results tree a report can read whole: at least one result, every result and
    samples file readable (a damaged one is named before any output is written)."""
    from hmvlm_bench.results import iter_results, load_samples

    results = iter_results(path)
    if not results:
        raise UserError(f"no result files under {path} (expected <model>/<task>.json from `run`)")
    for r in results:
        load_samples(path, r.model, r.task)


def check_writable_dir(path: Path, what: str) -> None:
    """`path` is (or can be made) a folder this process can write; creates nothing."""
    p = Path(path).expanduser()
    if p.exists():
        if not p.is_dir():
            raise UserError(f"{what} {p} is a file, not a folder")
        if not os.access(p, os.W_OK | os.X_OK):
            raise UserError(f"{what} {p} is not writable")
        return
    parent = p.parent
    while not parent.exists():  # the nearest existing ancestor decides
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"{what} {p}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{what} {p} cannot be created ({parent} is not writable)")
