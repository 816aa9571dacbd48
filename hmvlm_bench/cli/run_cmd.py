"""`hmvlm-bench run`, `ls` and `validate`: evaluate models on tasks, list what is registered,
check datasets, result files and plugins. Registered on the root app by cli/main.py."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from hmvlm_bench.cli.args import parse_csv, parse_data_paths, parse_kv_list
from hmvlm_bench.cli.common import area_app
from hmvlm_bench.cli.common import registries as _registries
from hmvlm_bench.errors import UserError
from hmvlm_bench.presets import preset_help

app = area_app()


# --------------------------------------------------------------------------------- run
@app.command()
def run(
    tasks: str = typer.Option("all", "--tasks", "-t", help="Comma-separated task names or groups, or 'all'.", metavar="NAMES"),
    models: str = typer.Option("hmvlm", "--models", "-m", help="Comma-separated model names, or 'all' (baselines, ground-truth, random).", metavar="NAMES"),
    preset: str = typer.Option("mini", help=preset_help(summaries=True) + ".", metavar="NAME"),
    data: Optional[list[str]] = typer.Option(None, "--data", help="Dataset path, NAME=DIR (repeatable), e.g. humanml3d=/data/HumanML3D.", metavar="NAME=DIR"),
    evaluator: Optional[list[str]] = typer.Option(None, "--evaluator", help="Official evaluator dir per dataset, NAME=DIR (holds text_mot_match/model/finest.tar and glove/).", metavar="NAME=DIR"),
    model_args: Optional[list[str]] = typer.Option(None, "--model-args", help="Model arguments k=v[,k=v], e.g. checkpoint=DIR.", metavar="K=V[,K=V]"),
    task_option: Optional[list[str]] = typer.Option(None, "--task-option", help="Task option TASK.NAME=VALUE (repeatable), e.g. t2m.regenerate=true, m2t.bertscore=false.", metavar="TASK.OPT=VALUE"),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", "-o", help="Where results go (default runs/<preset>).", metavar="DIR"),
    report_dir: Optional[Path] = typer.Option(None, "--report-dir", help="Also write the Markdown leaderboard here (default: the output dir).", metavar="DIR"),
    dataset: Optional[str] = typer.Option(None, help="Dataset for motion tasks (default: the preset's: synthetic, or humanml3d for paper).", metavar="NAME"),
    limit: Optional[int] = typer.Option(None, help="Evaluate at most N test samples per task (default: the preset's).", metavar="N"),
    seed: int = typer.Option(0, help="Base seed; per-sample seeds derive from it.", metavar="N"),
    device: Optional[str] = typer.Option(None, help="cpu | cuda | cuda:N (default: the preset's).", metavar="DEVICE"),
    include_path: Optional[list[Path]] = typer.Option(None, "--include-path", help="Extra plugin folder(s) with Python files defining register(registries).", metavar="DIR"),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache (default $HMVLM_BENCH_CACHE or ~/.cache/hmvlm_bench).", metavar="DIR"),
    experiment: Optional[Path] = typer.Option(None, "--experiment", help="Run every variant of an ablation folder (experiments/<study>).", metavar="DIR"),
    launcher: str = typer.Option("auto", help="auto | none | accelerate. auto joins the process group when started by `accelerate launch`/torchrun (WORLD_SIZE > 1).", metavar="NAME"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars on stderr."),
) -> None:
    """Evaluate models on tasks; finished (model, task) pairs are skipped on rerun."""
    from rich.console import Console

    from hmvlm_bench.artifacts import shipped_roots
    from hmvlm_bench.runner import RunConfig, run as run_eval

    console = Console(stderr=True)
    world = None
    if launcher not in ("auto", "none", "accelerate"):
        raise UserError(f"unknown launcher '{launcher}' (auto | none | accelerate)")
    if launcher == "accelerate" or (launcher == "auto" and os.environ.get("WORLD_SIZE", "1") != "1"):
        from hmvlm_bench.distributed import init_world

        world = init_world()  # first: worker ranks are silenced before anything prints
        progress = progress and world.is_main
    regs = _registries(include_path)
    # a study gets its own folder so its `hmvlm` variant never overwrites a plain run's
    out = output_dir or (Path("runs") / experiment.name if experiment is not None else Path("runs") / preset)
    cfg = RunConfig(
        tasks=parse_csv(tasks), models=parse_csv(models), preset=preset, output_dir=out,
        data=parse_data_paths(data), evaluators=parse_data_paths(evaluator),
        model_args=parse_kv_list(model_args, "--model-args"), limit=limit, dataset=dataset, seed=seed,
        task_options=_task_options(task_option, regs, parse_csv(tasks)),
        device=device, cache_dir=cache_dir, shipped_artifacts=shipped_roots(),
        progress=progress, debug=bool(os.environ.get("HMVLM_BENCH_DEBUG")),
    )
    if report_dir is not None:
        from hmvlm_bench.preflight import check_writable_dir

        check_writable_dir(report_dir, "--report-dir")
    if experiment is not None:
        from hmvlm_bench.experiments import run_experiment

        summary = run_experiment(experiment, cfg, regs, world)
    else:
        summary = run_eval(cfg, regs, world)
    if world is not None and not world.is_main:
        return
    _print_summary(console, summary)
    if summary.by_status("computed") or summary.by_status("cached"):
        from hmvlm_bench.reporting.leaderboard import write_markdown_leaderboard

        try:
            lb = write_markdown_leaderboard(out, report_dir or out, regs)
            console.print(f"leaderboard: {lb}")
        except UserError as exc:  # e.g. older results of another preset in this folder: the
            # run itself succeeded, its results are written; only the board cannot rank them
            console.print(f"leaderboard not written: {exc}", markup=False, highlight=False)
    if not summary.ok:
        raise typer.Exit(1)


def _task_options(items: list[str] | None, regs, tasks: list[str]) -> dict[str, dict[str, str]]:
    """--task-option values keyed by canonical task name (a typo gets 'did you mean'); an
    option for a task this run does not include is an error, not silently ignored."""
    from hmvlm_bench.cli.args import parse_task_options
    from hmvlm_bench.runner import expand_tasks

    out = {regs.tasks.canonical(task): opts for task, opts in parse_task_options(items).items()}
    running = expand_tasks(tasks, regs) if out else []
    for task in out:
        if task not in running:
            raise UserError(f"--task-option {task}.*: task '{task}' is not among --tasks ({', '.join(running)})")
    return out


def _print_summary(console, summary) -> None:
    from rich.table import Table

    table = Table(title="run summary", show_lines=False)
    for col in ("model", "task", "status", "detail", "seconds"):
        table.add_column(col)
    for o in summary.outcomes:
        table.add_row(o.model, o.task, o.status, o.detail, f"{o.seconds:.1f}" if o.seconds else "")
    console.print(table)
    n_cached = len(summary.by_status("cached"))
    if n_cached and not summary.by_status("computed"):
        console.print(f"nothing recomputed: {n_cached} result(s) already up to date")
    skipped = summary.by_status("skipped")
    if skipped:
        console.print(f"{len(skipped)} unsupported (model, task) pair(s) skipped")
    failed = summary.by_status("failed")
    if failed:  # the others finished and were kept; exit 1 says the run is incomplete
        console.print(f"{len(failed)} pair(s) failed, the others finished:")
        for o in failed:
            console.print(f"  {o.model} / {o.task}: {o.detail}", markup=False, highlight=False)


# ---------------------------------------------------------------------------------- ls
@app.command("ls")
def ls_cmd(
    what: str = typer.Argument("all", help="tasks | models | all"),
    include_path: Optional[list[Path]] = typer.Option(None, "--include-path", help="Extra plugin folder(s), as for run."),
) -> None:
    """List tasks (version, what they need, main metric) and models (capabilities).

    On a terminal: tables. Piped (`| grep`, `> file`): plain columns, names never cut.
    """
    from hmvlm_bench.cli.listing import model_rows, print_rows, task_rows

    if what not in ("tasks", "models", "all"):
        raise UserError(f"unknown listing '{what}' (tasks | models | all)")
    regs = _registries(include_path)
    if what in ("tasks", "all"):
        print_rows("tasks", ("name", "version", "model needs", "data needs", "main metric", "description"),
                   task_rows(regs))
    if what in ("models", "all"):
        print_rows("models", ("name", "capabilities", "description"), model_rows(regs))


# ---------------------------------------------------------------------------- validate
@app.command()
def validate(
    data: Optional[list[str]] = typer.Option(None, "--data", help="NAME=DIR to check (repeatable)."),
    results: Optional[Path] = typer.Option(None, "--results", help="Also check every result file below DIR."),
    include_path: Optional[list[Path]] = typer.Option(None, "--include-path"),
) -> None:
    """Check datasets, result files and the plugin registry; one line per problem, exit 2 if any."""
    from hmvlm_bench.cli.data import dataset_problems

    problems: list[str] = []
    regs = _registries(include_path)
    for name in regs.tasks.names():  # every registered plugin must load
        try:
            if not regs.tasks.meta(name).get("group"):
                regs.tasks.get(name)
        except Exception as exc:  # noqa: BLE001 - report, don't crash
            problems.append(f"task '{name}': {exc}")
    problems += dataset_problems(data or [])
    if results is not None:
        from hmvlm_bench.results import load_result

        for p in sorted(Path(results).glob("*/*.json")):
            try:
                load_result(p)
            except UserError as exc:
                problems.append(str(exc))
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        raise typer.Exit(2)
    typer.echo("ok")
