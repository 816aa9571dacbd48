"""`hmvlm-bench report`, `render` and `compare`: leaderboards, motion GIFs and ablation tables
from result files. Registered on the root app by cli/main.py."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hmvlm_bench.cli.args import parse_csv, parse_data_paths
from hmvlm_bench.cli.common import area_app
from hmvlm_bench.cli.common import registries as _registries
from hmvlm_bench.errors import UserError

app = area_app()


# ------------------------------------------------------------------------------ report
@app.command()
def report(
    results: Path = typer.Option(Path("runs/mini"), "--results", "-r", help="Results directory written by `run`."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the results dir)."),
    format: str = typer.Option("md", "--format", "-f", help="Comma-separated: md,html,tex,csv."),
    include_path: Optional[list[Path]] = typer.Option(None, "--include-path", help="Extra plugin folder(s), as for run: their tasks' column names and formats.", metavar="DIR"),
) -> None:
    """Render leaderboards (models x tasks, value ± 95% CI) from result files only."""
    from hmvlm_bench.preflight import check_results_dir, check_writable_dir
    from hmvlm_bench.reporting.render import render_reports

    check_results_dir(results)  # every file read before anything is written
    check_writable_dir(out or results, "--out")

    for path in render_reports(results, out or results, parse_csv(format), _registries(include_path)):
        typer.echo(str(path))


@app.command()
def render(
    results: Path = typer.Option(..., "--results", "-r", help="Results folder with t2m results (e.g. runs/mini)."),
    models: Optional[str] = typer.Option(None, "--models", "-m", help="Comma-separated models (default: every model with a t2m result)."),
    n: int = typer.Option(3, "--n", help="Prompts per model (the first ones its t2m result scored)."),
    data: Optional[list[str]] = typer.Option(None, "--data", help="Dataset path, NAME=DIR, when the results used real data."),
    seed: int = typer.Option(0, help="Sampling seed of the regenerated motions."),
    include_path: Optional[list[Path]] = typer.Option(None, "--include-path", help="Extra plugin folder(s), as for run."),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache (default $HMVLM_BENCH_CACHE or ~/.cache/hmvlm_bench)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars on stderr."),
) -> None:
    """Draw real vs generated motion GIFs (t2m prompts) into RESULTS/renders for the HTML report."""
    from hmvlm_bench.artifacts import open_store
    from hmvlm_bench.reporting.renders import render_results

    store = open_store(cache_dir)
    written = render_results(results, parse_csv(models) or None, n, _registries(include_path), store,
                             parse_data_paths(data), seed=seed, progress=progress)
    for path in written:
        typer.echo(str(path))
    if not written:
        typer.echo("nothing rendered (no model with a t2m result can generate motion)", err=True)


@app.command()
def compare(
    results: Path = typer.Option(..., "--results", "-r", help="Results directory."),
    baseline: str = typer.Option(..., "--baseline", help="Model the variants are compared to."),
    variants: Optional[str] = typer.Option(None, help="Comma-separated models (default: all others)."),
    tasks: Optional[str] = typer.Option(None, help="Comma-separated tasks (default: all)."),
    metrics: Optional[str] = typer.Option(None, help="Comma-separated metrics to report (default: all); Holm corrects over the tests shown."),
    format: str = typer.Option("md", "--format", "-f", help="md | tex"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the table here as well as printing it."),
    include_path: Optional[list[Path]] = typer.Option(None, "--include-path", help="Extra plugin folder(s), as for run: their tasks' names and formats.", metavar="DIR"),
) -> None:
    """Ablation table: per-metric delta vs a baseline, 95% CI, p-values (Holm-corrected)."""
    from hmvlm_bench.reporting.compare import compare_results

    if out is not None:
        from hmvlm_bench.preflight import check_writable_dir

        check_writable_dir(out.parent, "--out")
        if out.is_dir():
            raise UserError(f"--out {out} is a folder; give a file name (e.g. {out / 'compare.md'})")
    text = compare_results(results, baseline, parse_csv(variants) or None,
                           parse_csv(tasks) or None, format, parse_csv(metrics) or None,
                           _registries(include_path))
    typer.echo(text)
    if out is not None:
        from hmvlm_bench.results import atomic_write_text

        atomic_write_text(out, text)
