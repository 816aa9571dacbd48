"""`hmvlm-bench`: the command line. Heavy imports happen inside commands so --help is instant."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from hmvlm_bench.cli.args import parse_csv, parse_data_paths, parse_kv_list
from hmvlm_bench.errors import UserError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
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
train_app = typer.Typer(help="Train tokenizers, evaluators and models (resumable, safetensors).",
                        no_args_is_help=True, rich_markup_mode=None, context_settings=CONTEXT)
data_app = typer.Typer(help="Make, import and check motion datasets (HumanML3D layout).",
                       no_args_is_help=True, rich_markup_mode=None, context_settings=CONTEXT)
app.add_typer(train_app, name="train")
app.add_typer(data_app, name="data")


def _registries(include_path: list[Path] | None):
    from hmvlm_bench.plugins import load_registries

    return load_registries(include_path or [])


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


# --------------------------------------------------------------------------------- run
@app.command()
def run(
    tasks: str = typer.Option("all", "--tasks", "-t", help="Comma-separated task names or groups, or 'all'.", metavar="NAMES"),
    models: str = typer.Option("hmvlm", "--models", "-m", help="Comma-separated model names, or 'all' (baselines, ground-truth, random).", metavar="NAMES"),
    preset: str = typer.Option("mini", help="tiny (tests, seconds) | mini (CPU default) | paper (GPU, real data).", metavar="NAME"),
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
            lb = write_markdown_leaderboard(out, report_dir or out)
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


# ------------------------------------------------------------------------------ report
@app.command()
def report(
    results: Path = typer.Option(Path("runs/mini"), "--results", "-r", help="Results directory written by `run`."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the results dir)."),
    format: str = typer.Option("md", "--format", "-f", help="Comma-separated: md,html,tex,csv."),
) -> None:
    """Render leaderboards (models x tasks, value ± 95% CI) from result files only."""
    from hmvlm_bench.preflight import check_results_dir, check_writable_dir
    from hmvlm_bench.reporting.render import render_reports

    check_results_dir(results)  # every file read before anything is written
    check_writable_dir(out or results, "--out")

    for path in render_reports(results, out or results, parse_csv(format)):
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
) -> None:
    """Ablation table: per-metric delta vs a baseline, 95% CI, p-values (Holm-corrected)."""
    from hmvlm_bench.reporting.compare import compare_results

    if out is not None:
        from hmvlm_bench.preflight import check_writable_dir

        check_writable_dir(out.parent, "--out")
        if out.is_dir():
            raise UserError(f"--out {out} is a folder; give a file name (e.g. {out / 'compare.md'})")
    text = compare_results(results, baseline, parse_csv(variants) or None,
                           parse_csv(tasks) or None, format, parse_csv(metrics) or None)
    typer.echo(text)
    if out is not None:
        from hmvlm_bench.results import atomic_write_text

        atomic_write_text(out, text)


# ------------------------------------------------------------------------------- bench
@app.command()
def bench(
    device: str = typer.Option("cpu", help="cpu | cuda"),
    shapes: str = typer.Option("mini", help="mini (SmolLM2-135M shapes) | llama-7b"),
    batch_sizes: str = typer.Option("1,8,32", "--batch-sizes", help="Generation batch sizes."),
    out: Path = typer.Option(Path("runs/bench"), "--out", help="Output folder."),
    quick: bool = typer.Option(False, help="Fewer repeats (smoke test)."),
    suites: Optional[str] = typer.Option(None, "--suites", metavar="NAME,...",
                                         help="Only these suites (default: all; e.g. training = one "
                                              "instruction-tuning step, optimised vs plain fp32)."),
) -> None:
    """Throughput: MoE-LoRA layers, generation tok/s, paper latency protocol, tokenizers,
    training step, memory."""
    from hmvlm_bench.bench.cli import bench_cmd

    for path in bench_cmd(device=device, shapes=shapes,
                          batch_sizes=[int(b) for b in parse_csv(batch_sizes)], out=out, quick=quick,
                          suites=parse_csv(suites) if suites else None):
        typer.echo(str(path))


# ------------------------------------------------------------------------------- train
def _trainer(name: str):
    return _registries(None).trainers.get(name)


def _variants(incomplete: str = "") -> list[str]:
    """The registered models `train model --variant` builds (registered with trainer="model")."""
    regs = _registries(None)
    return [n for n in regs.models.registered() if regs.models.meta(n).get("trainer") == "model"
            and n.startswith(incomplete)]


@train_app.command("tokenizer")
def train_tokenizer(
    preset: str = typer.Option("mini", help="tiny | mini | paper"),
    variant: str = typer.Option("body-part", help="body-part | whole-body | whole-body-x5"),
    data: Optional[str] = typer.Option(None, "--data", help="NAME=DIR (default: the preset's synthetic data)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the artifact cache)."),
    steps: Optional[int] = typer.Option(None, help="Override the preset's number of steps."),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache."),
) -> None:
    """Train a motion tokenizer (HMVLM body-part VQ-VAE or a whole-body baseline)."""
    path = _trainer("tokenizer")(preset=preset, variant=variant, data=data, out=out, steps=steps,
                                 cache_dir=cache_dir)
    typer.echo(str(path))


@train_app.command("evaluator")
def train_evaluator(
    preset: str = typer.Option("mini", help="tiny | mini"),
    data: Optional[str] = typer.Option(None, "--data", help="NAME=DIR (default: the preset's synthetic data)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the artifact cache)."),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache."),
) -> None:
    """Train the contrastive text-motion evaluator (for datasets without an official one)."""
    typer.echo(str(_trainer("evaluator")(preset=preset, data=data, out=out, cache_dir=cache_dir)))


@train_app.command("model")
def train_model(
    preset: str = typer.Option("mini", help="tiny | mini | paper"),
    variant: str = typer.Option("hmvlm", help="hmvlm or a registered variant of it: lora, full-ft, whole-body, no-zero, ... (the models `ls models` lists; tab-completes)", autocompletion=_variants),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the artifact cache)."),
    steps: Optional[int] = typer.Option(None, help="Override the preset's number of steps."),
    data: Optional[str] = typer.Option(None, "--data", help="NAME=DIR (default: synthetic)."),
    cache_dir: Optional[Path] = typer.Option(None, help="Artifact cache."),
    random_weights: bool = typer.Option(False, "--random-weights", help="paper preset: random weights at real shapes (smoke test)."),
    num_layers: Optional[int] = typer.Option(None, "--num-layers", help="with --random-weights: cut every tower to N layers (CPU tests)."),
    tokenizer_preset: Optional[str] = typer.Option(None, "--tokenizer-preset", help="Motion/pose tokenizer sizes from another preset (e.g. tiny for a quick paper smoke test)."),
    model_args: Optional[list[str]] = typer.Option(None, "--model-args", help="k=v[,k=v]: local model folders llm_path, clip_text_path, clip_vision_path (or clip_path for both; the paper preset needs them) and train_seed (default 0)."),
) -> None:
    """Multi-task instruction tuning (t2m + m2t + pose + general) of HMVLM or a baseline.

    Multi-GPU: `accelerate launch --multi_gpu --num_processes N -m hmvlm_bench train model ...` (DDP), or with `--config_file baselines/accelerate/fsdp_full_ft.yaml` (FSDP2, for the 7B full fine-tune). The batch stays the preset's (paper: 32 from micro-batch 2), split over the processes; checkpoints hold full tensors and resume under any process count.

    The paper preset needs `--data humanml3d=DIR` and `--model-args llm_path=DIR,...` (named up front when missing)."""  # noqa: E501
    from hmvlm_bench.distributed import setup_launched_process

    setup_launched_process()
    extra = {k: v for k, v in (("num_layers", num_layers), ("tokenizer_preset", tokenizer_preset)) if v}
    margs = parse_kv_list(model_args, "--model-args")
    if margs:  # the variant is a registered model: its declared args, checked before training
        from hmvlm_bench.preflight import check_model_args

        regs = _registries(None)
        check_model_args(margs, {variant: regs.models.get(variant)})
    path = _trainer("model")(preset=preset, variant=variant, out=out, steps=steps, data=data,
                             cache_dir=cache_dir, random_weights=random_weights,
                             model_args=margs, **extra)
    typer.echo(str(path))


# -------------------------------------------------------------------------------- data
@data_app.command("synth")
def data_synth(
    out: Path = typer.Option(..., "--out", help="Output folder (HumanML3D layout)."),
    size: int = typer.Option(4000, help="Number of motions."),
    seed: int = typer.Option(0, help="Same seed, byte-identical files."),
) -> None:
    """Generate the embedded synthetic compositional text-motion dataset."""
    from hmvlm_bench.cli.data import synth_cmd

    raise typer.Exit(synth_cmd(out, size, seed))


@data_app.command("import-bvh")
def data_import_bvh(
    src: Path = typer.Argument(..., help="A .bvh file or a folder of them."),
    out: Path = typer.Option(..., "--out", help="Output folder (HumanML3D layout, no captions)."),
    scale: Optional[float] = typer.Option(None, help="Metres per BVH unit (default: guessed from the skeleton height)."),
) -> None:
    """Import BVH motion capture: retarget to 22 joints, resample to 20 fps, 263-d features."""
    from hmvlm_bench.cli.data import import_bvh_cmd

    raise typer.Exit(import_bvh_cmd(src, out, scale))


@data_app.command("validate")
def data_validate(data: list[str] = typer.Option(..., "--data", help="NAME=DIR")) -> None:
    """Same as `hmvlm-bench validate --data ...`."""
    validate(data=data, results=None, include_path=None)


def main(argv: list[str] | None = None) -> None:
    from hmvlm_bench.cli.exits import run_cli

    sys.exit(run_cli(app, argv))
