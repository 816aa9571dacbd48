"""What every CLI area shares: the help settings and the plugin registries.

The areas (`run_cmd`, `reports_cmd`, `bench_cmd`, `train_cmd`, `data`) each hold one
`typer.Typer()`; `cli/main.py` builds the root app and registers them.
"""
from __future__ import annotations

from pathlib import Path

import typer

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def area_app(**kwargs) -> typer.Typer:
    """One area's app, with the root's help settings (plain click help, -h as well as --help).
    Without `help`/a name it is merged into the root app: its commands become top-level ones."""
    return typer.Typer(rich_markup_mode=None, context_settings=CONTEXT, add_completion=False, **kwargs)


def registries(include_path: list[Path] | None):
    from hmvlm_bench.plugins import load_registries

    return load_registries(include_path or [])
