"""The evaluation loop: every (model, task) pair once, resumable, atomic.

Resume follows HELM's habit of looking at outputs: a pair is skipped when its result file
exists with the same model fingerprint and task hash (both cover everything that changes
the answer, so one model's results are never served for another — lm-eval #2715).
"""
from __future__ import annotations

import logging
import math
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from hmvlm_bench.artifacts import ArtifactStore, default_cache_dir
from hmvlm_bench.context import DataCatalog, ModelContext, TaskContext, World
from hmvlm_bench.contracts import BenchModel, Capability, Task, TaskResult, hide_targets
from hmvlm_bench.errors import UserError, is_environment_error
from hmvlm_bench.locking import FileLock, sweep_stale
from hmvlm_bench.preflight import check_device, check_model_args, check_writable_dir
from hmvlm_bench.presets import get_preset
from hmvlm_bench.provenance import git_hash, package_versions, torch_threads
from hmvlm_bench.registry import Registries
from hmvlm_bench.results import (MetricRecord, ResultFile, Timing, load_result, result_path,
                                 write_result)
from hmvlm_bench.seeding import derive_seed, seed_everything, single_thread

log = logging.getLogger("hmvlm_bench")


@dataclass
class RunConfig:
    tasks: list[str]
    models: list[str]
    preset: str = "mini"
    output_dir: Path = Path("runs/latest")
    data: dict[str, Path] = field(default_factory=dict)
    evaluators: dict[str, Path] = field(default_factory=dict)
    model_args: dict[str, str] = field(default_factory=dict)
    task_options: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    dataset: str | None = None
    seed: int = 0
    device: str | None = None
    cache_dir: Path | None = None
    shipped_artifacts: tuple[Path, ...] = ()
    progress: bool = True
    debug: bool = False


@dataclass
class PairOutcome:
    model: str
    task: str
    status: str  # computed | cached | skipped | failed
    detail: str = ""
    path: Path | None = None
    seconds: float = 0.0


@dataclass
class RunSummary:
    outcomes: list[PairOutcome] = field(default_factory=list)

    def by_status(self, status: str) -> list[PairOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return not self.by_status("failed")


class ModelView:
    """What a task sees of a model: requests lose their targets unless it is an oracle."""

    def __init__(self, model: BenchModel) -> None:
        self._model = model
        self.name = model.name
        self.capabilities = model.capabilities

    def _clean(self, requests: Sequence[Any]) -> list[Any]:
        return list(requests) if self._model.oracle else hide_targets(requests)

    def generate_motion(self, requests: Sequence[Any]) -> list[Any]:
        return self._model.generate_motion(self._clean(requests))

    def caption_motion(self, requests: Sequence[Any]) -> list[Any]:
        return self._model.caption_motion(self._clean(requests))

    def estimate_pose(self, requests: Sequence[Any]) -> list[Any]:
        return self._model.estimate_pose(self._clean(requests))

    def reconstruct_motion(self, requests: Sequence[Any]) -> list[Any]:
        return self._model.reconstruct_motion(self._clean(requests))

    def lm_backend(self) -> Any:
        return self._model.lm_backend()

    @property
    def unwrapped(self) -> BenchModel:
        return self._model


def expand_tasks(names: Sequence[str], regs: Registries) -> list[str]:
    """`all` -> every registered task; a group name -> its members; else canonical names."""
    out: list[str] = []
    for raw in names:
        if raw == "all":
            cand = [n for n in regs.tasks.names() if not regs.tasks.meta(n).get("group")
                    and not regs.tasks.meta(n).get("hidden")]
        else:
            canon = regs.tasks.canonical(raw)
            members = regs.tasks.meta(canon).get("group")
            cand = list(members) if members else [canon]
        out.extend(c for c in cand if c not in out)
    return out


def expand_models(names: Sequence[str], regs: Registries) -> list[str]:
    out: list[str] = []
    for raw in names:
        cand = [n for n in regs.models.names() if not regs.models.meta(n).get("hidden")] \
            if raw == "all" else [regs.models.canonical(raw)]
        out.extend(c for c in cand if c not in out)
    return out


def run(cfg: RunConfig, regs: Registries, world: World | None = None) -> RunSummary:
    world = world or World()
    preset = get_preset(cfg.preset)
    device = cfg.device or preset.device
    # user errors stop here, before any folder is made or anything is loaded
    check_writable_dir(cfg.output_dir, "output dir")
    cache_dir = cfg.cache_dir or default_cache_dir()
    check_writable_dir(cache_dir, "cache dir")
    task_names = expand_tasks(cfg.tasks, regs)
    model_names = expand_models(cfg.models, regs)
    if not task_names or not model_names:
        raise UserError("nothing to run: " + ("--tasks" if not task_names else "--models")
                        + " is empty (give names, or 'all')")
    check_model_args(cfg.model_args, {n: regs.models.get(n) for n in model_names})
    artifacts = ArtifactStore(cache_dir, tuple(cfg.shipped_artifacts))
    data = DataCatalog(preset, artifacts, dict(cfg.data))
    tasks: list[Task] = [regs.tasks.get(n)(cfg.task_options.get(n)) for n in task_names]
    for t, n in zip(tasks, task_names):
        if t.name != n:  # a registry alias must not change where results land
            raise ValueError(f"task registered as '{n}' has name '{t.name}'")
    tctx = TaskContext(preset=preset, data=data, artifacts=artifacts, seed=cfg.seed,
                       limit=cfg.limit, dataset=cfg.dataset or preset.dataset, device=device,
                       progress=cfg.progress, world=world, evaluator_paths=dict(cfg.evaluators))
    _preflight(cfg, regs, tasks, model_names, tctx, preset, data, artifacts, device, world)
    check_device(device)  # after the missing inputs: the paper preset names its files first
    summary = RunSummary()
    for mname in model_names:
        mcls: type[BenchModel] = regs.models.get(mname)
        mctx = _model_context(cfg, preset, data, artifacts, device, world)
        model: BenchModel | None = None
        fingerprint: str | None = None
        done = len(summary.outcomes)
        try:
            pending: list[tuple[Task, str, Path]] = []
            for task in tasks:
                if task.requires not in mcls.capabilities:
                    summary.outcomes.append(PairOutcome(
                        mname, task.name, "skipped", f"model lacks '{task.requires.value}'"))
                    continue
                if fingerprint is None:
                    fingerprint = mcls.fingerprint(mctx)
                thash = task.task_hash(tctx)
                path = result_path(cfg.output_dir, mname, task.name)
                if _up_to_date(path, fingerprint, thash, warn=True):
                    summary.outcomes.append(PairOutcome(mname, task.name, "cached", "up to date", path))
                    sweep_stale(_pair_lock_path(path))  # left by a run killed after writing
                    continue
                pending.append((task, thash, path))

            def compute(task: Task, thash: str, path: Path, lock: FileLock | None) -> None:
                nonlocal model
                try:
                    assert fingerprint is not None
                    if lock is not None and _up_to_date(path, fingerprint, thash):
                        summary.outcomes.append(PairOutcome(mname, task.name, "cached",
                                                            "computed by another run", path))
                        return
                    if model is None:
                        log.info("loading model %s", mname)
                        model = mcls(mctx)
                    summary.outcomes.append(_run_pair(cfg, task, model, mname, fingerprint, thash,
                                                      tctx, preset, mcls, mctx))
                finally:
                    if lock is not None:
                        lock.release()

            # a pair another run is computing into this folder right now is left for last,
            # then waited for and reused (two runs split the work instead of doubling it)
            deferred: list[tuple[Task, str, Path, FileLock]] = []
            for task, thash, path in pending:
                lock = _pair_lock(path, tctx.world)
                if lock is not None and not lock.acquire(blocking=False):
                    log.warning("%s / %s is being computed by another run (process %s) into %s; "
                                "doing the other pairs first", mname, task.name, lock.holder(),
                                cfg.output_dir)
                    deferred.append((task, thash, path, lock))
                    continue
                compute(task, thash, path, lock)
            for task, thash, path, lock in deferred:
                lock.acquire(on_wait=lambda pid, t=task.name: log.warning(
                    "waiting for process %s, which is computing %s / %s (lock %s)", pid, mname, t,
                    lock.path))
                compute(task, thash, path, lock)
        except UserError:
            raise
        except Exception as exc:  # building/loading this model failed: its pairs fail, others run
            if cfg.debug or is_environment_error(exc):  # a full disk would fail every pair
                raise
            cause = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            log.error("model %s failed: %s (--debug shows the traceback)", mname, cause)
            log.debug("%s", traceback.format_exc())
            reported = {o.task for o in summary.outcomes[done:]}
            summary.outcomes += [PairOutcome(mname, t.name, "failed", cause) for t in tasks
                                 if t.name not in reported and t.requires in mcls.capabilities]
        finally:
            if model is not None:
                model.close()
            # the summary lists pairs in task order, whatever order they were computed in
            order = {t.name: i for i, t in enumerate(tasks)}
            summary.outcomes[done:] = sorted(summary.outcomes[done:], key=lambda o: order.get(o.task, 0))
    return summary


def _up_to_date(path: Path, fingerprint: str, thash: str, warn: bool = False) -> bool:
    """A result file for this model fingerprint and task hash exists (resume)."""
    if not path.exists():
        return False
    try:
        old = load_result(path)
    except UserError:
        if warn:
            log.warning("recomputing unreadable result %s", path)
        return False
    return old.fingerprint == fingerprint and old.task_hash == thash


def _pair_lock_path(result: Path) -> Path:
    return result.with_name(f".{result.stem}.lock")


def _pair_lock(result: Path, world: World) -> FileLock | None:
    """The lock that keeps two runs from computing one pair into one folder at once. A
    multi-process (`accelerate launch`) run takes none: its ranks compute each pair together,
    and one rank waiting on a lock while the others enter the task would deadlock them."""
    if world.size > 1:
        return None
    return FileLock(_pair_lock_path(result), remove=True)


def _model_context(cfg: RunConfig, preset: Any, data: DataCatalog, artifacts: ArtifactStore,
                   device: str, world: World) -> ModelContext:
    return ModelContext(preset=preset, data=data, artifacts=artifacts,
                        model_args=dict(cfg.model_args), device=device, seed=cfg.seed,
                        progress=cfg.progress, world=world)


def _preflight(cfg: RunConfig, regs: Registries, tasks: list[Task], model_names: list[str],
               tctx: TaskContext, preset: Any, data: DataCatalog, artifacts: ArtifactStore,
               device: str, world: World) -> None:
    """Name every missing input in one line before any work starts."""
    check_task_options(tasks, tctx)
    missing: list[str] = []
    for t in tasks:
        missing += [m for m in t.preflight(tctx) if m not in missing]
    for name in model_names:
        mcls = regs.models.get(name)
        missing += [m for m in mcls.preflight(_model_context(cfg, preset, data, artifacts, device, world))
                    if m not in missing]
    if missing:
        raise UserError(f"preset '{preset.name}' is missing: " + "; ".join(missing))


def check_task_options(tasks: Sequence[Task], tctx: TaskContext) -> None:
    """Task options given on the command line are checked before any work. A task with
    typed options (`Options`, hmvlm_bench.taskkit) validates them all at once; otherwise
    its config reads (and type-checks) every option it knows, so what it never read is a typo."""
    from hmvlm_bench.errors import did_you_mean
    from hmvlm_bench.taskkit import read_options

    for t in tasks:
        if not t.options:
            continue
        if getattr(type(t), "Options", None) is not None:
            read_options(t, tctx)  # unknown names and malformed values, one line each
        t.config(tctx)  # raises UserError on a malformed value (and checks between options)
        unknown = sorted(set(t.options) - t.options_read)
        if unknown:
            known = sorted(t.options_read)
            raise UserError(f"task '{t.name}' has no option '{unknown[0]}'{did_you_mean(unknown[0], known)} "
                            f"(options: {', '.join(known)})")


def _run_pair(cfg: RunConfig, task: Task, model: BenchModel, mname: str, fingerprint: str,
              thash: str, tctx: TaskContext, preset: Any, mcls: type[BenchModel],
              mctx: ModelContext) -> PairOutcome:
    seed_everything(derive_seed(cfg.seed, mname, task.name))
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    try:
        with single_thread():  # metrics bit-identical for any process count (model calls unpinned)
            res: TaskResult = task.evaluate(ModelView(model), tctx)
    except UserError:  # the user's input: stop (the same input would fail the other pairs)
        raise
    except Exception as exc:  # an internal error fails this pair alone; the run goes on
        if cfg.debug or is_environment_error(exc):
            raise
        cause = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        log.error("%s on %s failed: %s (--debug shows the traceback)", mname, task.name, cause)
        log.debug("%s", traceback.format_exc())
        return PairOutcome(mname, task.name, "failed", cause)
    seconds = time.perf_counter() - t0
    if not tctx.world.is_main:
        return PairOutcome(mname, task.name, "computed", "worker rank", None, seconds)
    bad = [k for k, v in res.metrics.items() if v.value is not None and not math.isfinite(v.value)]
    if bad:  # never write a silent wrong number
        return PairOutcome(mname, task.name, "failed", f"non-finite metric(s): {', '.join(bad)}")
    result = ResultFile(
        task=task.name, task_version=task.version, task_hash=thash, model=mname,
        fingerprint=fingerprint,
        metrics={k: MetricRecord(value=v.value, ci=v.ci, higher_is_better=v.higher_is_better,
                                 n=v.n, values=v.values) for k, v in res.metrics.items()},
        main_metric=task.main_metric, n_samples=res.n_samples, seed=cfg.seed,
        preset=preset.name, dataset=res.dataset, evaluator=res.evaluator,
        versions=package_versions(), git_hash=git_hash(), world_size=tctx.world.size,
        config={"task": task.config(tctx), "model": mcls.spec(mctx), "preset": preset.to_dict(),
                "run": {"limit": tctx.eval_limit, "seed": cfg.seed, "device": tctx.device,
                        "torch_threads": torch_threads()}},
        timing=Timing(started=started.isoformat(timespec="seconds"),
                      finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      seconds=round(seconds, 3)),
        extra=res.extra,
    )
    path = write_result(cfg.output_dir, result, res.samples)
    return PairOutcome(mname, task.name, "computed", "", path, seconds)


__all__ = ["RunConfig", "RunSummary", "PairOutcome", "run", "expand_tasks", "expand_models",
           "ModelView", "Capability"]
