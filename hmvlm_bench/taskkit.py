"""The task kit: what a task plugin needs from the core to evaluate a model on a split.

A task added with `--include-path` (or an entry point) imports only `hmvlm_bench`: this
module holds the split-task base classes, the option readers, deterministic subsets,
model calls with the failure budget, evaluator embeddings and the replicated / bootstrap
metric summaries. `tasks/common.py` re-exports it for older plugins.

A task subclasses `SplitTask` (or `EvaluatedSplitTask` when it scores through the
text-motion evaluator) and defines `_settings(ctx)`: its resolved options, with the
dataset name under "dataset". The base class turns those into `config(ctx)` (and so the
task hash) and loads the split; `config_extra` adds what is not an option (the evaluator).

Failure policy (one place, used by every task):
- a prediction of the wrong *kind* (wrong feature width, wrong joint shape, a list of the
  wrong length, a non-string caption) is a model bug: `ModelOutputError` is raised and
  the runner records the pair as failed;
- a *per-sample* defect (NaN/inf values, a motion too short/long to evaluate) marks that
  sample failed: it is listed in `samples` with its reason, counted in `failure_rate`,
  and left out of the metrics. If more than `max_failure_rate` (task option, default
  0.05) of the samples fail, the task raises instead of reporting a number on a biased
  subset. Never silently.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence

import numpy as np

from hmvlm_bench.contracts import MetricValue, Task
from hmvlm_bench.errors import UserError
from hmvlm_bench.hashing import stable_hash

if TYPE_CHECKING:  # pragma: no cover
    from hmvlm_bench.context import TaskContext
    from hmvlm_bench.motion.dataset import MotionDataset, MotionSample

DEFAULT_MAX_FAILURE_RATE = 0.05

# --------------------------------------------------------------------------- protocols
# Named evaluation protocols (option `protocol`, recorded as `extra.eval_protocol`;
# `tasks/protocols.py` holds the motion-specific pieces they are made of).
BENCH, GUO = "bench", "guo"
PROTOCOLS: tuple[str, ...] = (BENCH, GUO)
# dataset kinds whose published numbers follow Guo et al.'s protocol
GUO_KINDS = frozenset({"humanml3d", "kit"})


def default_protocol(dataset_kind: str) -> str:
    return GUO if dataset_kind in GUO_KINDS else BENCH


def check_protocol(task_name: str, value: object) -> str:
    text = str(value).strip().lower()
    if text not in PROTOCOLS:
        raise UserError(f"{task_name}: option 'protocol' must be one of {', '.join(PROTOCOLS)}, got {value!r}")
    return text


class ModelOutputError(RuntimeError):
    """A model returned output of the wrong kind for a task (a bug in the model)."""


# --------------------------------------------------------------------------- options
# A task declares its options as a frozen dataclass (`Options`, a subclass of
# `TaskOptions`): one field per option with its type, default and a `help`, built with
# `opt(...)`. `read_options(task, ctx)` validates the given values once (unknown names
# with a did-you-mean, every bad value named with what is accepted) and returns the typed
# instance. The raw option dict itself still enters the task's config as given.

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def opt(default: Any = None, help: str = "", *, minimum: float | None = None,  # noqa: A002
        maximum: float | None = None, choices: Sequence[str] | None = None, normalize: bool = False) -> Any:
    """A task option field. `minimum`/`maximum` bound a number; `choices` lists the accepted
    strings (of a str field, or of each item of a tuple[str, ...] field); `normalize`
    strips and lower-cases a string before it is checked (and stored)."""
    meta = {"help": help, "minimum": minimum, "maximum": maximum,
            "choices": None if choices is None else tuple(choices), "normalize": normalize}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class TaskOptions:
    """Options every task has. A task's `Options` subclasses this (frozen, each field `opt(...)`);
    a field default of None means "the context decides" (the preset, the dataset kind)."""

    dataset: str | None = opt(None, "dataset name (default: the run's --dataset, else the task's own)")

    def check(self, task_name: str) -> None:
        """Checks between fields, after each field is valid (override; raise UserError)."""

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def parse(cls, task_name: str, raw: dict[str, Any]) -> "TaskOptions":
        """The typed options from `raw` (strings from the command line, or YAML values)."""
        from hmvlm_bench.errors import did_you_mean

        known = cls.names()
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise UserError(f"task '{task_name}' has no option '{unknown[0]}'{did_you_mean(unknown[0], known)} "
                            f"(options: {', '.join(sorted(known))})")
        hints = _field_types(cls)
        values = {f.name: _coerce(task_name, f, hints[f.name], raw[f.name])
                  for f in dataclasses.fields(cls) if f.name in raw}
        out = cls(**values)
        out.check(task_name)
        return out

    @classmethod
    def describe(cls) -> list[tuple[str, str, Any, str]]:
        """(name, type, default, help) per option, for listings and docs."""
        hints = _field_types(cls)
        return [(f.name, _type_name(hints[f.name]), f.default, f.metadata.get("help", ""))
                for f in dataclasses.fields(cls)]


@dataclass(frozen=True)
class FailureBudgetOptions(TaskOptions):
    """Options of a task that scores per sample under the failure budget."""

    max_failure_rate: float = opt(DEFAULT_MAX_FAILURE_RATE, "largest share of failed samples before the task "
                                  "refuses to report a number", minimum=0.0, maximum=1.0)


@dataclass(frozen=True)
class ReplicatedOptions(TaskOptions):
    """Options of a task whose metrics are replicated (mean +- 95% CI over replications)."""

    replications: int | None = opt(None, "replications of the replicated metrics (default: the preset's)",
                                   minimum=1)

    def n_replications(self, ctx: "TaskContext") -> int:
        return ctx.preset.replications if self.replications is None else self.replications


_TYPES_CACHE: dict[type, dict[str, Any]] = {}


def _field_types(cls: type) -> dict[str, Any]:
    if cls not in _TYPES_CACHE:
        import typing

        _TYPES_CACHE[cls] = typing.get_type_hints(cls)
    return _TYPES_CACHE[cls]


def _base_type(tp: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    import types
    import typing

    args = typing.get_args(tp)
    if (typing.get_origin(tp) in (typing.Union, types.UnionType)) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return tp, False


def _type_name(tp: Any) -> str:
    base, nullable = _base_type(tp)
    name = "list" if base not in (int, float, bool, str) else base.__name__
    return name + (" or none" if nullable else "")


def _coerce(task_name: str, f: "dataclasses.Field[Any]", tp: Any, raw: Any) -> Any:
    base, nullable = _base_type(tp)
    meta = f.metadata
    where = f"{task_name}: option '{f.name}'"
    if raw is None or (nullable and isinstance(raw, str) and raw.strip().lower() == "none"):
        if nullable:
            return None
        raise UserError(f"{where} must be {_accepted(base, meta)}, got {raw!r}")
    if base is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise UserError(f"{where} must be true/false ({', '.join(_TRUE + _FALSE)}), got {raw!r}")
    if base is int:
        value = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        elif isinstance(raw, str):
            try:
                value = int(raw)
            except ValueError:
                pass
        if value is None:
            raise UserError(f"{where} must be an integer{_bounds(meta)}, got {raw!r}")
        _check_bounds(where, value, meta, "an integer")
        return value
    if base is float:
        try:
            value = float(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        if value is None or value != value:  # None or NaN
            raise UserError(f"{where} must be a number{_bounds(meta)}, got {raw!r}")
        _check_bounds(where, value, meta, "a number")
        return value
    if base is str:
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            raise UserError(f"{where} must be {_accepted(base, meta)}, got {raw!r}")
        text = str(raw).strip().lower() if meta.get("normalize") else str(raw)
        choices = meta.get("choices")
        if choices is not None and text not in choices:
            from hmvlm_bench.errors import did_you_mean

            raise UserError(f"{where} must be one of {', '.join(choices)}, got {raw!r}{did_you_mean(text, choices)}")
        return text
    # a tuple of strings: a list (YAML) or a comma-separated string (command line)
    items = [x.strip() for x in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) and x for x in items) or not items:
        raise UserError(f"{where} must be a non-empty list of names (comma-separated), got {raw!r}")
    choices = meta.get("choices")
    if choices is not None:
        bad = [x for x in items if x not in choices]
        if bad:
            raise UserError(f"{where}: unknown {f.name} {bad} (accepted: {', '.join(choices)})")
    return tuple(items)


def _bounds(meta: Any) -> str:
    lo, hi = meta.get("minimum"), meta.get("maximum")
    if lo is not None and hi is not None:
        return f" in [{lo:g}, {hi:g}]"
    if lo is not None:
        return f" >= {lo:g}"
    if hi is not None:
        return f" <= {hi:g}"
    return ""


def _check_bounds(where: str, value: float, meta: Any, kind: str) -> None:
    lo, hi = meta.get("minimum"), meta.get("maximum")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise UserError(f"{where} must be {kind}{_bounds(meta)}, got {value!r}")


def _accepted(base: Any, meta: Any) -> str:
    if base is bool:
        return "true/false"
    if base is int:
        return "an integer" + _bounds(meta)
    if base is float:
        return "a number" + _bounds(meta)
    if base is str and meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    return "a string" if base is str else "a list of names"


def read_options(task: Any, ctx: "TaskContext | None" = None) -> Any:
    """The task's typed options (`type(task).Options`), validated once: per-task options
    (`--task-option t2m.x=1`) win over run-wide ones (`ctx.options`, those the task has)."""
    cls = type(task).Options
    raw = dict(task.options)
    if getattr(ctx, "options", None):
        names = set(cls.names())
        raw = {**{k: v for k, v in ctx.options.items() if k in names}, **raw}
    parsed = cls.parse(task.name, raw)
    getattr(task, "options_read", set()).update(cls.names())  # the runner's unknown-option check
    return parsed


def option(task: Any, ctx: "TaskContext", name: str, default: Any) -> Any:
    """A task option read one at a time (the older, untyped way; a task that declares
    `Options` uses `read_options`): per-task options win over run-wide ones."""
    getattr(task, "options_read", set()).add(name)  # lets the runner name unknown options
    if name in task.options:
        return task.options[name]
    return ctx.options.get(name, default)


def int_option(task: Any, ctx: "TaskContext", name: str, default: int, minimum: int = 0) -> int:
    raw = option(task, ctx, name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise UserError(f"{task.name}: option '{name}' must be an integer, got {raw!r}") from None
    if value < minimum:
        raise UserError(f"{task.name}: option '{name}' must be >= {minimum}, got {value}")
    return value


def bool_option(task: Any, ctx: "TaskContext", name: str, default: bool) -> bool:
    raw = option(task, ctx, name, default)
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UserError(f"{task.name}: option '{name}' must be true/false, got {raw!r}")


def float_option(task: Any, ctx: "TaskContext", name: str, default: float) -> float:
    raw = option(task, ctx, name, default)
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise UserError(f"{task.name}: option '{name}' must be a number, got {raw!r}") from None


def max_failure_rate(task: Any, ctx: "TaskContext") -> float:
    """The failure budget (option `max_failure_rate`, default 0.05): see the module doc."""
    return float_option(task, ctx, "max_failure_rate", DEFAULT_MAX_FAILURE_RATE)


def replications(task: Any, ctx: "TaskContext") -> int:
    """Replications of a replicated metric (option `replications`, default: the preset's)."""
    return int_option(task, ctx, "replications", ctx.preset.replications, 1)


# --------------------------------------------------------------------------- subsets


def stable_order(ids: Sequence[str]) -> list[int]:
    """Indices of `ids` ordered by sha256(id): a fixed pseudo-random order that does not
    depend on the run seed, the file order or the machine."""
    return sorted(range(len(ids)), key=lambda i: hashlib.sha256(ids[i].encode()).hexdigest())


def select_subset(ids: Sequence[str], limit: int | None) -> list[int]:
    """Deterministic subset of at most `limit` items, spread over the split (first
    `limit` in `stable_order`), returned in dataset order. None keeps everything."""
    if limit is None or limit >= len(ids):
        return list(range(len(ids)))
    if limit < 1:
        raise UserError(f"limit must be >= 1, got {limit}")
    return sorted(stable_order(ids)[:limit])


def load_split(ctx: "TaskContext", dataset_name: str, split: str) -> "MotionDataset":
    ds = ctx.data.get(dataset_name, split=split)
    if len(ds) == 0:
        raise UserError(f"dataset '{dataset_name}' split '{split}' has no usable items "
                        f"(after the length filter {ds.spec.min_len}..{ds.spec.max_len_exclusive - 1} frames)")
    return ds


def dataset_info(ds: "MotionDataset", name: str, split: str, n: int, limit: int | None) -> dict[str, Any]:
    return {"name": name, "hash": ds.dataset_hash(), "split": split, "n": n,
            "n_split": len(ds), "limit": limit, "subset": "sha256(id) order" if limit else "all"}


def evaluator_preflight(task: Any, ctx: "TaskContext") -> list[str]:
    """Dataset path (Task.preflight) plus, for a real dataset, its evaluator folder."""
    missing = Task.preflight(task, ctx)
    name = task.dataset(ctx)
    if name != "synthetic" and name not in ctx.evaluator_paths:
        missing.append(f"--evaluator {name}=DIR")
    return missing


def protocol_option(task: Any, ctx: "TaskContext", dataset_name: str, split: str) -> str:
    """The task's evaluation protocol: the `protocol` option, else `guo` on HumanML3D/KIT-ML
    and `bench` on other data."""
    raw = option(task, ctx, "protocol", None)
    return resolve_protocol(None if raw is None else check_protocol(task.name, raw), ctx, dataset_name, split)


def resolve_protocol(given: str | None, ctx: "TaskContext", dataset_name: str, split: str) -> str:
    """A typed `protocol` option, or (None) the default of the dataset's kind."""
    if given is not None:
        return given
    return default_protocol(load_split(ctx, dataset_name, split).spec.kind)


def hashed_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as they enter a task's config (and so its hash): the `bench` protocol,
    which is what every result before named protocols used, is left out so those results
    stay valid; any other protocol is part of the config."""
    if settings.get("protocol") == BENCH:
        return {k: v for k, v in settings.items() if k != "protocol"}
    return settings


def guo_tagger_problem(task: Any, ctx: "TaskContext") -> str | None:
    """One line when the task's evaluator is Guo et al.'s official one (it must POS-tag
    generated captions) and no tagger can be loaded; None otherwise."""
    from hmvlm_bench.evaluators.factory import is_official_evaluator_dir
    from hmvlm_bench.evaluators.tagging import tagger_problem

    name = task.dataset(ctx)
    path = ctx.evaluator_paths.get(name)
    if path is None or not is_official_evaluator_dir(path, name):
        return None
    problem = tagger_problem()
    return None if problem is None else f"POS tagger for generated captions (Guo et al. evaluator): {problem}"


def evaluator_info(ev: Any) -> dict[str, Any]:
    return {"name": getattr(ev, "name", type(ev).__name__), "fingerprint": ev.fingerprint}


# ------------------------------------------------------------------------ model calls


def make_request(cls: type, **fields: Any) -> Any:
    """Build a request, dropping keys the contract does not (yet) have, e.g. `hint`."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in fields.items() if k in names})


def call_model(fn: Callable[[list[Any]], list[Any]], requests: list[Any], ctx: "TaskContext",
               what: str) -> list[Any]:
    """Send the whole (sharded) request list to the model at once (it batches
    internally) and gather the answers of all ranks in request order."""
    from hmvlm_bench.progress import sample_bar
    from hmvlm_bench.seeding import model_threads

    shard = ctx.world.shard(requests)
    model_name = getattr(getattr(fn, "__self__", None), "name", "")
    with model_threads(), sample_bar(len(shard), f"{model_name} {what}".strip(),
                                     enabled=ctx.progress and ctx.world.is_main):
        # the runner pins metric code to one thread; models get them all
        preds = list(fn(shard)) if shard else []
    if len(preds) != len(shard):
        raise ModelOutputError(f"{what}: model returned {len(preds)} predictions for {len(shard)} requests")
    return ctx.world.gather(preds, len(requests))


def pred_value(pred: Any) -> Any:
    return getattr(pred, "value", pred)


def pred_info(pred: Any) -> dict[str, Any]:
    info = getattr(pred, "info", None)
    return info if isinstance(info, dict) else {}


def as_array(value: Any, what: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelOutputError(f"{what}: expected a numeric array, got {type(value).__name__} ({exc})") from None


def check_motion(value: Any, feature_dim: int, sample_id: str, *, min_len: int = 1,
                 max_len: int | None = None) -> tuple[np.ndarray | None, str | None]:
    """(features, None) or (None, reason). Wrong rank/width raises ModelOutputError."""
    arr = as_array(value, f"sample {sample_id}")
    if arr.ndim != 2 or arr.shape[1] != feature_dim:
        raise ModelOutputError(f"sample {sample_id}: motion has shape {arr.shape}, "
                               f"expected (T, {feature_dim})")
    if arr.shape[0] < min_len:
        return None, f"too short: {arr.shape[0]} frames < {min_len}"
    if max_len is not None and arr.shape[0] > max_len:
        return None, f"too long: {arr.shape[0]} frames > {max_len}"
    if not np.isfinite(arr).all():
        return None, f"non-finite values ({int((~np.isfinite(arr)).sum())} entries)"
    return arr, None


def enforce_failure_budget(task_name: str, failed: dict[str, str], n: int, max_rate: float) -> None:
    """Raise when too many samples failed; a message names a few of them."""
    if n == 0:
        raise UserError(f"{task_name}: no samples to evaluate")
    if len(failed) == n or len(failed) / n > max_rate:
        first = "; ".join(f"{k}: {v}" for k, v in list(failed.items())[:3])
        raise ModelOutputError(f"{task_name}: {len(failed)}/{n} samples failed (max_failure_rate "
                               f"{max_rate:g}); e.g. {first}")


# ---------------------------------------------------------------------- evaluator use


def embed_texts(ev: Any, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> np.ndarray:
    return np.asarray(ev.encode_text(list(texts), tokens=None if tokens is None else [list(t) for t in tokens]),
                      dtype=np.float64)


def embed_motions(ev: Any, ds: "MotionDataset", raw_motions: Sequence[np.ndarray]) -> np.ndarray:
    """Evaluator embeddings of raw (denormalised) features, normalised with the
    dataset's Mean/Std and cropped to the evaluator's maximum length (196 frames,
    Guo et al. max_motion_length)."""
    max_len = ds.spec.max_motion_length
    normed = [ds.normalize(np.asarray(m, dtype=np.float32)[:max_len]) for m in raw_motions]
    return np.asarray(ev.encode_motion(normed, [len(m) for m in normed]), dtype=np.float64)


# ------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class MatchingProtocol:
    """R-precision batch and Diversity pairs actually used (smaller than the reference's
    32 / 300 when fewer samples exist; recorded in `extra` so readers know)."""

    batch_size: int
    diversity_pairs: int

    @classmethod
    def for_n(cls, n: int, batch: int = 32, pairs: int = 300) -> "MatchingProtocol":
        if n < 2:
            raise UserError(f"need at least 2 evaluated samples, got {n}")
        return cls(min(batch, n), min(pairs, n - 1))

    def as_dict(self) -> dict[str, int]:
        return {"r_precision_batch": self.batch_size, "diversity_pairs": self.diversity_pairs}


def replicated_matching(text_emb: np.ndarray, motion_emb: np.ndarray, n_rep: int, seed: int,
                        batch_size: int, top_k: int = 3) -> dict[str, np.ndarray]:
    """Per-replication R@1..k and MM-Dist: shuffle the pairs, rank within complete
    batches (Guo et al. protocol). Returns {name: values (n_rep,)}."""
    from hmvlm_bench.metrics.motion import matching_distance, r_precision

    rows: dict[str, list[float]] = {f"r_precision_top{k + 1}": [] for k in range(top_k)}
    rows["mm_dist"] = []
    for child in np.random.SeedSequence(seed).spawn(n_rep):
        perm = np.random.default_rng(child).permutation(text_emb.shape[0])
        t, m = text_emb[perm], motion_emb[perm]
        rp = r_precision(t, m, top_k=top_k, batch_size=batch_size)
        for k in range(top_k):
            rows[f"r_precision_top{k + 1}"].append(float(rp[k]))
        rows["mm_dist"].append(matching_distance(t, m, batch_size=batch_size))
    return {k: np.asarray(v) for k, v in rows.items()}


def summary_metric(values: Sequence[float] | np.ndarray, higher_is_better: bool | None) -> MetricValue:
    """Mean +- 1.96 std / sqrt(n) over replications (ddof=0, as final_evaluations.py)."""
    from hmvlm_bench.metrics.motion import summarize

    s = summarize(np.asarray(values, dtype=np.float64))
    return MetricValue(value=float(s.mean), ci=float(s.ci95), higher_is_better=higher_is_better,
                       n=s.n, values=[float(v) for v in s.values])


def bootstrap_metric(per_sample: Sequence[float] | np.ndarray, higher_is_better: bool | None,
                     seed: int) -> MetricValue:
    """Mean over samples with a percentile-bootstrap 95% CI (half-width of [low, high])."""
    from hmvlm_bench.metrics.stats import bootstrap_ci

    v = np.asarray(per_sample, dtype=np.float64)
    if v.size < 2:
        return MetricValue(value=float(v.mean()), ci=None, higher_is_better=higher_is_better, n=int(v.size))
    b = bootstrap_ci(v, rng=seed)
    return MetricValue(value=b.estimate, ci=(b.high - b.low) / 2.0, higher_is_better=higher_is_better,
                       n=int(v.size))


def point_metric(value: float, higher_is_better: bool | None, n: int | None = None) -> MetricValue:
    return MetricValue(value=float(value), ci=None, higher_is_better=higher_is_better, n=n)


def rounded(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits))


# ------------------------------------------------------------------------ base classes


class SettingsTask(Task):
    """A task whose config is its resolved settings. Subclasses define `_settings(ctx)`
    (the options as read, with the dataset name under "dataset"); `config` is then
    {name, version, settings..., config_extra..., options}, the same for every task."""

    # settings that do not change the answer (local paths): kept out of the config/hash
    unhashed_settings: ClassVar[tuple[str, ...]] = ()

    def _settings(self, ctx: "TaskContext") -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def config_extra(self, ctx: "TaskContext", settings: dict[str, Any]) -> dict[str, Any]:
        """What enters the config besides the settings (e.g. the evaluator's identity)."""
        return {}

    def config(self, ctx: "TaskContext") -> dict[str, Any]:
        s = hashed_settings(self._settings(ctx))
        shown = {k: v for k, v in s.items() if k not in self.unhashed_settings}
        return {"name": self.name, "version": self.version, **shown, **self.config_extra(ctx, s),
                "options": self.options}


class SplitTask(SettingsTask):
    """A motion task on one split of one dataset; its hash covers that split's content.
    Subclasses define `split` and `_settings(ctx)` (a "split" setting, when present, picks
    another split)."""

    split: str = "test"

    def split_settings(self, ctx: "TaskContext", o: TaskOptions, split: str | None = None) -> dict[str, Any]:
        """The settings every split task opens with: dataset, split (`split` overrides the
        class's), evaluation limit, and what the options carry: replications
        (`ReplicatedOptions`), the failure budget (`FailureBudgetOptions`) and the resolved
        evaluation protocol (an option named `protocol`). A task adds its own on top."""
        dataset = self.dataset(ctx)
        split = self.split if split is None else split
        out: dict[str, Any] = {"dataset": dataset, "split": split, "limit": ctx.eval_limit}
        if isinstance(o, ReplicatedOptions):
            out["replications"] = o.n_replications(ctx)
        if isinstance(o, FailureBudgetOptions):
            out["max_failure_rate"] = o.max_failure_rate
        if hasattr(o, "protocol"):
            out["protocol"] = resolve_protocol(getattr(o, "protocol"), ctx, dataset, split)
        return out

    def _dataset(self, ctx: "TaskContext", settings: dict[str, Any]) -> "MotionDataset":
        return load_split(ctx, settings["dataset"], settings.get("split", self.split))

    def _items(self, ctx: "TaskContext", settings: dict[str, Any]) -> tuple["MotionDataset", list["MotionSample"]]:
        """The split and the items of its subset (`limit`), in dataset order."""
        ds = self._dataset(ctx, settings)
        idx = select_subset(ds.ids, settings["limit"])
        return ds, [ds[i] for i in ctx.track(idx, f"{self.name}: load", total=len(idx))]

    def task_hash(self, ctx: "TaskContext") -> str:
        s = self._settings(ctx)
        return stable_hash({"config": self.config(ctx), "data": self._dataset(ctx, s).dataset_hash()})


class EvaluatedSplitTask(SplitTask):
    """A split task scored through the text-motion evaluator (asks for it up front and
    names it in its config)."""

    def preflight(self, ctx: "TaskContext") -> list[str]:
        return evaluator_preflight(self, ctx)

    def config_extra(self, ctx: "TaskContext", settings: dict[str, Any]) -> dict[str, Any]:
        return {"evaluator": evaluator_info(ctx.evaluator(settings["dataset"]))}


__all__ = [
    "DEFAULT_MAX_FAILURE_RATE", "BENCH", "GUO", "PROTOCOLS", "GUO_KINDS", "default_protocol",
    "check_protocol", "ModelOutputError", "TaskOptions", "FailureBudgetOptions", "ReplicatedOptions", "opt", "read_options", "option", "int_option", "bool_option", "float_option",
    "max_failure_rate", "replications",
    "stable_order", "select_subset", "load_split", "dataset_info", "evaluator_preflight", "protocol_option", "resolve_protocol",
    "hashed_settings", "guo_tagger_problem", "evaluator_info", "make_request", "call_model", "pred_value",
    "pred_info", "as_array", "check_motion", "enforce_failure_budget", "embed_texts", "embed_motions",
    "MatchingProtocol", "replicated_matching", "summary_metric", "bootstrap_metric", "point_metric",
    "rounded", "SettingsTask", "SplitTask", "EvaluatedSplitTask"
]
