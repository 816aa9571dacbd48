"""The contracts between the harness, models and tasks.

A model declares the capabilities it offers; a task declares the one it needs. The
runner only pairs those that match and lists the rest as skipped. Requests carry a
`target` (the ground truth) that the runner hides from every model except oracles
(`ground-truth`), so a model cannot read the answer by accident.
"""
from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from hmvlm_bench.hashing import stable_hash  # noqa: F401 - re-exported for plugins

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from hmvlm_bench.context import ModelContext, TaskContext


class Capability(str, Enum):
    GENERATE_MOTION = "generate_motion"  # text -> motion (t2m)
    CAPTION_MOTION = "caption_motion"  # motion -> text (m2t)
    ESTIMATE_POSE = "estimate_pose"  # image -> 3D pose
    TOKENIZE_MOTION = "tokenize_motion"  # motion -> codes -> motion
    LANGUAGE_MODEL = "language_model"  # an lm-eval view for language suites


# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class MotionRequest:
    """Generate a motion for `text` with `length` frames (the protocol gives GT length)."""

    sample_id: str
    dataset: str
    text: str
    length: int
    variant: str = "text"  # "text" | "first_token" | "last_token" (HMVLM T2M prompts)
    seed: int = 0  # per-request seed: results never depend on batching or sharding
    hint: Any = None  # first_token/last_token variants: GT features of that unit (4 frames)
    target: Any = None  # GT features (T, D); hidden from non-oracle models


@dataclass(frozen=True)
class CaptionRequest:
    """Caption `features` (raw, denormalised (T, D) HumanML3D features)."""

    sample_id: str
    dataset: str
    features: "np.ndarray"
    seed: int = 0
    target: Any = None  # list of reference captions


@dataclass(frozen=True)
class PoseRequest:
    """Estimate the 22-joint 3D pose (metres, root-relative) shown in `image` (H, W, 3)."""

    sample_id: str
    dataset: str
    image: "np.ndarray"
    seed: int = 0
    target: Any = None  # GT joints (22, 3)


@dataclass(frozen=True)
class TokenizeRequest:
    """Encode then decode `features` (normalised (T, D))."""

    sample_id: str
    dataset: str
    features: "np.ndarray"
    seed: int = 0
    target: Any = None


@dataclass
class Prediction:
    """One model output: `value` is features (T, D), a caption, joints (22, 3) or codes."""

    value: Any
    info: dict[str, Any] = field(default_factory=dict)  # e.g. gate weights, raw tokens


def hide_targets(requests: Sequence[Any]) -> list[Any]:
    return [dataclasses.replace(r, target=None) for r in requests]


# ------------------------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelArg:
    """One `--model-args` key a model accepts; `kind` checks the value before work starts
    (hmvlm_bench.preflight), so `steps=abc` fails in one line, not deep inside training."""

    help: str
    kind: str = "str"  # str | int | float | bool | path
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # for kinds int and float

    def problem(self, value: str) -> str | None:
        """Why `value` is not acceptable, or None."""
        if self.choices and value not in self.choices:
            return "expected one of " + " | ".join(self.choices)
        if self.kind in ("int", "float"):
            try:
                x = int(value) if self.kind == "int" else float(value)
            except ValueError:
                return "not an integer" if self.kind == "int" else "not a number"
            if not math.isfinite(x):
                return "not a finite number"
            if self.minimum is not None and x < self.minimum:
                return f"must be >= {self.minimum}"
        if self.kind == "bool" and value.strip().lower() not in _BOOL_WORDS:
            return "expected true or false"
        return None


_BOOL_WORDS = ("1", "0", "true", "false", "yes", "no", "on", "off")


class BenchModel(ABC):
    """A model under evaluation. Subclasses set `capabilities` and implement those methods.

    Construction must be cheap or lazy: `spec()` (a classmethod) describes the model
    without loading weights, so the runner can fingerprint it and skip finished work.
    """

    name: ClassVar[str] = "unnamed"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    oracle: ClassVar[bool] = False  # True only for the ground-truth row
    # the `--model-args` keys it reads; None = undeclared (any key passes: third-party plugins)
    arguments: ClassVar[dict[str, ModelArg] | None] = None

    def __init__(self, ctx: "ModelContext") -> None:
        self.ctx = ctx

    @classmethod
    def spec(cls, ctx: "ModelContext") -> dict[str, Any]:
        """Everything that changes this model's answers (configs, artifact keys, args)."""
        out = {"name": cls.name, "preset": ctx.preset.name, "args": cls.own_args(ctx)}
        if cls.path_digests(ctx):
            out["contents"] = cls.path_digests(ctx)
        return out

    @classmethod
    def path_digests(cls, ctx: "ModelContext") -> dict[str, str]:
        """Content digests of the folders/files named by its `path` args (a checkpoint or
        LLM edited in place must change the fingerprint; memoised, so warm runs only stat)."""
        from pathlib import Path

        from hmvlm_bench.filehash import tree_digest

        out: dict[str, str] = {}
        for key, spec in (cls.arguments or {}).items():
            value = ctx.model_args.get(key)
            if spec.kind == "path" and value and Path(str(value)).exists():
                out[key] = tree_digest(Path(str(value)), exclude=("work",))
        return out

    @classmethod
    def own_args(cls, ctx: "ModelContext") -> dict[str, str]:
        """The model args this model reads (all of them when undeclared): only these may
        change its fingerprint, so `--model-args checkpoint=D` leaves ground-truth cached."""
        return {k: str(v) for k, v in ctx.model_args.items()
                if cls.arguments is None or k in cls.arguments}

    @classmethod
    def fingerprint(cls, ctx: "ModelContext") -> str:
        return stable_hash(cls.spec(ctx))

    @classmethod
    def preflight(cls, ctx: "ModelContext") -> list[str]:
        """Missing files/arguments, checked before any work starts (one line each)."""
        return []

    def generate_motion(self, requests: Sequence[MotionRequest]) -> list[Prediction]:
        raise NotImplementedError

    def caption_motion(self, requests: Sequence[CaptionRequest]) -> list[Prediction]:
        raise NotImplementedError

    def estimate_pose(self, requests: Sequence[PoseRequest]) -> list[Prediction]:
        raise NotImplementedError

    def reconstruct_motion(self, requests: Sequence[TokenizeRequest]) -> list[Prediction]:
        """Tokenize then detokenize; `info` may carry `codes` (T', streams)."""
        raise NotImplementedError

    def lm_backend(self) -> Any:
        """An object with `hf_model`, `tokenizer` and optional `route(prompts)`."""
        raise NotImplementedError

    def close(self) -> None:
        """Free memory (called by the runner when done with the model)."""


# -------------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class MetricSpec:
    """A metric as reports show it: stated once, here (`reporting/leaderboard.yaml` may
    override a field, never restate it)."""

    name: str
    higher_is_better: bool | None  # None: closer to the real-data value is better (e.g. diversity)
    display: str = ""  # column label without the unit, e.g. "MPJPE"
    unit: str = ""  # e.g. "mm": the label reads "MPJPE (mm)"
    format: str = ""  # Python format spec of value and CI in reports, e.g. ".3f"; "" = automatic
    # False: not a column of its own; shown after the columns when a result has it, named
    # after its parent metric (mse_torso -> "Recon. MSE (torso)")
    column: bool = True

    @property
    def label(self) -> str:
        text = self.display or self.name
        return f"{text} ({self.unit})" if self.unit else text


@dataclass
class MetricValue:
    value: float
    ci: float | None = None  # half-width of the 95% CI
    higher_is_better: bool | None = True
    n: int | None = None  # replications or samples behind the CI
    values: list[float] | None = None  # per-replication values, for significance tests


@dataclass
class TaskResult:
    metrics: dict[str, MetricValue]
    n_samples: int
    samples: list[dict[str, Any]] = field(default_factory=list)  # per-sample outputs
    extra: dict[str, Any] = field(default_factory=dict)  # gate analysis, notes, ...
    dataset: dict[str, Any] = field(default_factory=dict)  # name, hash, split, subset
    evaluator: dict[str, Any] | None = None  # name, fingerprint


class Task(ABC):
    """A benchmark task. One module per task, registered in its plugin's `register`."""

    name: ClassVar[str]
    version: ClassVar[int] = 1  # bump on any change of data or protocol (MTEB habit)
    requires: ClassVar[Capability]
    metrics: ClassVar[tuple[MetricSpec, ...]] = ()
    main_metric: ClassVar[str] = ""
    description: ClassVar[str] = ""
    display_name: ClassVar[str] = ""  # short name heading the task's report columns ("" = name)
    dataset_name: ClassVar[str] = "synthetic"  # default; a preset or --dataset may override

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        # option names the task has looked up (hmvlm_bench.taskkit.option records them): after
        # `config(ctx)`, a given option outside this set is a typo (`--task-option`)
        self.options_read: set[str] = {"dataset"}

    def config(self, ctx: "TaskContext") -> dict[str, Any]:
        """The task's settings after applying the preset (goes into results)."""
        return {"name": self.name, "version": self.version, "options": self.options}

    def dataset(self, ctx: "TaskContext") -> str:
        """The dataset this run evaluates on: the task's own, else the run's default."""
        return self.options.get("dataset") or ctx.dataset or self.dataset_name

    def task_hash(self, ctx: "TaskContext") -> str:
        """Everything that changes the answer except the model: version, config, data."""
        return stable_hash({"config": self.config(ctx), "data": ctx.data.fingerprint(self.dataset(ctx))})

    def preflight(self, ctx: "TaskContext") -> list[str]:
        """Missing inputs, checked before any work starts (one line each)."""
        name = self.dataset(ctx)
        if name != "synthetic" and name not in ctx.data.paths:
            return [f"--data {name}=DIR"]
        return []

    @abstractmethod
    def evaluate(self, model: BenchModel, ctx: "TaskContext") -> TaskResult: ...

    def metric_spec(self, name: str) -> MetricSpec:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)

