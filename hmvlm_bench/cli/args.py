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
