"""Bench results: harness result file (`<out>/<device-slug>/throughput.json`), Markdown, rich table.

One file per device holds every shapes run: a rerun at other shapes merges into it, a rerun at
the same shapes replaces that run's figures.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from hmvlm_bench.bench.records import BenchRecord

TASK = "throughput"
TASK_VERSION = 1
WEIGHTS_NOTE = ("random weights at real shapes: throughput depends on shapes, not weights "
                "(mini uses the real SmolLM2-135M weights where noted)")


def _fmt(v: float | None, digits: int = 4) -> str:
    if v is None:
        return ""
    a = abs(v)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{v:.3e}"
    return f"{v:.{digits}g}"


def record_rows(suite: str, records: list[BenchRecord]) -> list[dict[str, Any]]:
    return [{"suite": suite, **r.to_dict()} for r in records]


def metric_key(shapes: str, row: Mapping[str, Any], ratio: bool = False) -> str:
    base = f"{shapes}.{row['suite']}.{row['name']}"
    return f"{base}.over.{row['baseline']}" if ratio else base


def run_metrics(shapes: str, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        out[metric_key(shapes, row)] = {"value": float(row["value"]), "higher_is_better": bool(row["higher_is_better"])}
        if row["baseline"] is not None:
            # A ratio of times is better when lower, a ratio of rates when higher: the record's direction.
            out[metric_key(shapes, row, ratio=True)] = {
                "value": float(row["ratio"]), "higher_is_better": bool(row["higher_is_better"])}
    return out


def write_throughput(out_dir: Path, slug: str, info: dict[str, Any], shapes: str, run: dict[str, Any],
                     started: str, finished: str, seconds: float) -> tuple[Path, Path]:
    """Merge this shapes run into the device's result file and rewrite its Markdown report."""
    from hmvlm_bench.provenance import git_hash, package_versions
    from hmvlm_bench.results import ResultFile, atomic_write_text, dump_result, load_result, result_path

    path = result_path(out_dir, slug, TASK)
    runs: dict[str, Any] = {}
    if path.exists():
        try:
            runs = dict(load_result(path).extra.get("runs", {}))
        except Exception:  # noqa: BLE001 - an unreadable old file is replaced, not fatal
            runs = {}
    runs[shapes] = run
    metrics: dict[str, Any] = {}
    for name, r in sorted(runs.items()):
        metrics.update(run_metrics(name, r["records"]))
    suites = sorted({row["suite"] for r in runs.values() for row in r["records"]})
    task_hash = hashlib.sha256(json.dumps({"suites": suites, "version": TASK_VERSION}).encode()).hexdigest()[:16]
    fingerprint = hashlib.sha256(json.dumps(
        {k: info.get(k) for k in ("device", "gpu_name", "cpu_model", "torch", "cuda", "torch_threads")},
        sort_keys=True).encode()).hexdigest()[:16]
    first = next(iter(metrics), "")
    result = ResultFile(
        task=TASK, task_version=TASK_VERSION, task_hash=task_hash, model=slug, fingerprint=fingerprint,
        metrics=metrics, main_metric=first, n_samples=sum(len(r["records"]) for r in runs.values()), seed=0,
        preset=",".join(sorted(runs)), versions=package_versions(), git_hash=git_hash(),
        config={"shapes": {k: r["config"] for k, r in runs.items()}},
        timing={"started": started, "finished": finished, "seconds": seconds},
        extra={"note": WEIGHTS_NOTE, "device": info, "runs": runs},
    )
    atomic_write_text(path, dump_result(result))
    md_path = Path(out_dir) / slug / f"throughput_{slug}.md"
    atomic_write_text(md_path, render_markdown(slug, info, runs))
    return path, md_path


BUSY_LOAD_PER_CPU = 0.25  # others' 1-min load average per CPU above which timings are flagged


def machine_load() -> dict[str, float] | None:
    """1-minute load average and CPU count (None where the OS has no load average)."""
    import os

    try:
        one, _, _ = os.getloadavg()
    except (AttributeError, OSError):
        return None
    return {"loadavg_1m": round(one, 2), "cpus": os.cpu_count() or 1}


def load_warning(before: Mapping[str, float] | None) -> str | None:
    """A warning when other work loaded the machine as the benchmark started."""
    if not before or before["loadavg_1m"] / before["cpus"] <= BUSY_LOAD_PER_CPU:
        return None
    return (f"the machine was busy when the benchmark started (load {before['loadavg_1m']:g} on "
            f"{int(before['cpus'])} CPUs): timings are noisy; a target counts as met only if every "
            "measured round meets it")


def _spread(r: Mapping[str, Any]) -> str:
    sp = r.get("spread")
    return f"{_fmt(sp[0], 3)}–{_fmt(sp[1], 3)}" if sp else ""


def _verdict(r: Mapping[str, Any]) -> str:
    # result files written before `verdict` existed carry target_met only
    return r.get("verdict") or {True: "yes", False: "no", None: ""}[r.get("target_met")]


def _targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("target")]


def render_markdown(slug: str, info: dict[str, Any], runs: Mapping[str, Any]) -> str:
    lines = [f"# Throughput on {slug}", "", f"_{WEIGHTS_NOTE}._", ""]
    dev = ", ".join(f"{k}={info[k]}" for k in ("device", "gpu_name", "driver", "cuda", "torch", "cpu_model",
                                                "cpu_count", "torch_threads") if info.get(k) is not None)
    lines += [f"Device: {dev}", ""]
    for shapes, run in sorted(runs.items()):
        cfg = run["config"]
        lines += [f"## shapes `{shapes}`", "",
                  f"Command: `{run.get('command', '')}`  ",
                  f"Weights: {cfg.get('weights_note', '')}; dtype {cfg.get('dtype')}; "
                  f"batch sizes {cfg.get('batch_sizes')}; quick={cfg.get('quick')}; "
                  f"wall time {run.get('seconds', 0):.1f} s", ""]
        load = run.get("load") or {}
        if load.get("before"):
            lines += [f"Machine load (1-min average, {int(load['before']['cpus'])} CPUs): "
                      f"{load['before']['loadavg_1m']:g} at start, "
                      f"{(load.get('after') or {}).get('loadavg_1m', float('nan')):g} at the end.", ""]
        warning = load_warning(load.get("before"))
        if warning:
            lines += [f"**Warning:** {warning}.", ""]
        tgt = _targets(run["records"])
        if tgt:
            lines += ["### Targets", "",
                      "Ratio = median over rounds; spread = min–max over rounds (blank: not measured per round).", "",
                      "| suite | figure | vs | ratio | spread | target | met |", "|---|---|---|---|---|---|---|"]
            for r in tgt:
                met = _verdict(r)
                met = met if met == "yes" or not met else f"**{met}**"
                lines.append(f"| {r['suite']} | {r['name']} | {r['baseline'] or ''} | "
                             f"{_fmt(r['ratio'] if r['ratio'] is not None else r['value'], 3)} | {_spread(r)} | "
                             f"{r['target']} | {met} |")
            lines.append("")
        lines += ["### All figures", "", "| suite | figure | value | unit | vs | ratio | params |",
                  "|---|---|---|---|---|---|---|"]
        for r in run["records"]:
            params = ", ".join(f"{k}={v}" for k, v in sorted(r["params"].items()))
            lines.append(f"| {r['suite']} | {r['name']} | {_fmt(r['value'])} | {r['unit']} | {r['baseline'] or ''} | "
                         f"{_fmt(r['ratio'], 3)} | {params} |")
        if run.get("failed"):
            lines += ["", "Failed suites:", ""] + [f"- `{k}`: {v}" for k, v in sorted(run["failed"].items())]
        lines.append("")
    return "\n".join(lines)


def print_table(console: Any, shapes: str, rows: list[dict[str, Any]], failed: Mapping[str, str]) -> None:
    from rich.table import Table

    table = Table(title=f"throughput, shapes={shapes}")
    for col in ("suite", "figure", "value", "unit", "vs", "ratio", "spread", "target", "met"):
        table.add_column(col, justify="right" if col in ("value", "ratio", "spread") else "left")
    for r in rows:
        met = _verdict(r)
        met = f"[green]{met}[/]" if met == "yes" else (f"[red]{met}[/]" if met else "")
        table.add_row(r["suite"], r["name"], _fmt(r["value"]), r["unit"], r["baseline"] or "",
                      _fmt(r["ratio"], 3), _spread(r), r["target"] or "", met)
    console.print(table)
    for name, err in sorted(failed.items()):
        console.print(f"[red]suite {name} failed:[/] {err}")
