"""`hmvlm-bench`: the command line. The root app, its global options, and one registration
per area; each area is one module with its own typer app:

- `cli/run_cmd.py`: run, ls, validate
- `cli/reports_cmd.py`: report, render, compare
- `cli/bench_cmd.py`: bench
- `cli/train_cmd.py`: train tokenizer|evaluator|model
- `cli/data.py`: data synth|import-bvh|validate

Heavy imports happen inside commands so --help is instant."""
from __future__ import annotations

import logging
import os
import sys

import typer

from hmvlm_bench.cli import bench_cmd, data, reports_cmd, run_cmd, train_cmd
from hmvlm_bench.cli.common import CONTEXT
from hmvlm_bench.cli.train_cmd import _variants  # noqa: F401 - tests and completion read it here

app = typer.Typer(
    name="hmvlm-bench",
    help=("Benchmark and evaluation suite for motion-vision-language models (HMVLM and friends).\n\n"
          "Start with `hmvlm-bench run --tasks all` (offline, CPU, embedded synthetic data), "
          "then `hmvlm-bench report --results runs/mini`."),
    no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False,
    # plain click help: rich's boxed panels spent half of an 80-column terminal on a
    # type column (`<list[Path]>`) and cut examples; -h as well as --help
    rich_markup_mode=None, context_settings=CONTEXT,
)
# top-level commands, in this order in --help: an area app added without a name merges its
# commands into the root; train and data are sub-commands
app.add_typer(run_cmd.app)
app.add_typer(reports_cmd.app)
app.add_typer(bench_cmd.app)
app.add_typer(train_cmd.app, name="train")
app.add_typer(data.app, name="data")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("hmvlm_bench").setLevel(logging.INFO)


def _version(value: bool) -> None:
    if value:
        from hmvlm_bench import __version__

        typer.echo(f"hmvlm-bench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
          verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more."),
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    if debug:
        os.environ["HMVLM_BENCH_DEBUG"] = "1"
    _setup_logging(verbose)
    from hmvlm_bench.cli.quiet import quiet_third_party

    quiet_third_party(verbose)


def main(argv: list[str] | None = None) -> None:
    from hmvlm_bench.cli.exits import run_cli

    sys.exit(run_cli(app, argv))
