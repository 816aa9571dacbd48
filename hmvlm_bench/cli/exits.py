"""How the CLI ends: one `error:` line and an exit code, never a traceback unless --debug.

typer >= 0.22 ships its own copy of click (`typer._click`) whose exceptions are not the
installed click's, so catching `click.ClickException` misses every usage error. The classes
are taken from typer itself (`typer.BadParameter`'s bases, `typer.Exit`, `typer.Abort`), so
the mapping follows whichever click typer uses; pyproject pins typer to the tested range and
tests/hostile pins the behaviour.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

import typer

from hmvlm_bench.errors import UserError, is_environment_error

INTERRUPTED = "interrupted; finished results kept; rerun to resume"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C



def _click_base(name: str) -> type[BaseException]:
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == name:
            return cls
    raise RuntimeError(f"typer {typer.__version__}: no {name} among BadParameter's bases")


ClickException = _click_base("ClickException")
UsageError = _click_base("UsageError")


def usage_line(exc: BaseException) -> str:
    """`error: <click's message> (see 'hmvlm-bench run --help')` on one line."""
    msg = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"error: {msg}{hint}"


def os_error_line(exc: OSError) -> str:
    what = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    return f"error: {what}{where}"


def run_cli(app: Callable[..., object], argv: list[str] | None) -> int:
    """Run the typer app without its standalone handling; map every outcome to an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or bool(os.environ.get("HMVLM_BENCH_DEBUG"))
    try:
        # with standalone_mode=False click returns the code of a typer.Exit instead of exiting
        rc = app(args=argv, standalone_mode=False)
        rc = rc if isinstance(rc, int) else 0
        if rc == EXIT_INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130) silently
            typer.echo(INTERRUPTED, err=True)
        return rc
    except UserError as exc:
        if debug:
            raise
        typer.echo(f"error: {' '.join(str(exc).split())}", err=True)
        return EXIT_USAGE
    except typer.Exit as exc:
        code = exc.exit_code
        if code == EXIT_INTERRUPTED:
            typer.echo(INTERRUPTED, err=True)
        return code
    except (typer.Abort, KeyboardInterrupt):  # older click: Ctrl-C arrives as Abort
        typer.echo(INTERRUPTED, err=True)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare command: its help, as click does
            exc.show()  # type: ignore[attr-defined]
            return EXIT_USAGE
        typer.echo(usage_line(exc), err=True)
        return EXIT_USAGE
    except ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)  # type: ignore[attr-defined]
        return EXIT_USAGE
    except OSError as exc:
        if debug or not is_environment_error(exc):
            raise
        typer.echo(os_error_line(exc), err=True)
        return EXIT_USAGE
