"""What every CLI area shares: the help settings and the plugin registries.

The areas (`run_cmd`, `reports_cmd`, `bench_cmd`, `train_cmd`, `data`) each hold one
`typer.Typer()`; `cli/main.py` builds the root app and registers them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import typer
from typer.core import TyperCommand

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def area_app(**kwargs) -> typer.Typer:
    """One area's app, with the root's help settings (plain click help, -h as well as --help).
    Without `help`/a name it is merged into the root app: its commands become top-level ones."""
    return typer.Typer(rich_markup_mode=None, context_settings=CONTEXT, add_completion=False, **kwargs)


def registries(include_path: list[Path] | None):
    from hmvlm_bench.plugins import load_registries

    return load_registries(include_path or [])


def help_at_display(**makers: Callable[[], str]) -> type[TyperCommand]:
    """A command class (`@app.command(cls=help_at_display(variant=f))`) whose named options
    take their help text from `f()` when the help is shown: lists read from the plugin
    registries, which the CLI does not load at import (--help stays instant, and a plugin
    added later, e.g. by --include-path or a test, is listed)."""

    class HelpAtDisplay(TyperCommand):
        def format_help(self, ctx, formatter) -> None:
            for param in self.params:
                if param.name in makers:
                    param.help = makers[param.name]()
            super().format_help(ctx, formatter)

    return HelpAtDisplay
