"""Parsers for repeated CLI arguments (`name=PATH`, `k=v,k=v`), property-tested."""
from __future__ import annotations

from pathlib import Path

from hmvlm_bench.errors import UserError


def parse_kv_list(items: list[str] | None, what: str) -> dict[str, str]:
    """['a=1', 'b=2,c=3'] -> {'a': '1', 'b': '2', 'c': '3'} (whitespace-trimmed)."""
    out: dict[str, str] = {}
    for item in items or []:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key or not value:
                raise UserError(f"{what}: expected NAME=VALUE, got '{part}'")
            if key in out and out[key] != value:
                raise UserError(f"{what}: '{key}' given twice with different values")
            out[key] = value
    return out


def parse_data_paths(items: list[str] | None) -> dict[str, Path]:
    return {k: Path(v).expanduser() for k, v in parse_kv_list(items, "--data").items()}


def parse_csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_task_options(items: list[str] | None) -> dict[str, dict[str, str]]:
    """['t2m.regenerate=true', 'm2t.bertscore=false'] -> {'t2m': {'regenerate': 'true'}, ...}.
    Values stay strings: each task parses and checks its own options."""
    out: dict[str, dict[str, str]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        task, dot, name = key.strip().partition(".")
        if not sep or not dot or not task or not name.strip() or not value.strip():
            raise UserError(f"--task-option: expected TASK.NAME=VALUE, got '{item}'")
        opts = out.setdefault(task, {})
        if name.strip() in opts and opts[name.strip()] != value.strip():
            raise UserError(f"--task-option: '{key.strip()}' given twice with different values")
        opts[name.strip()] = value.strip()
    return out
