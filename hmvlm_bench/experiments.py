"""Ablation studies as folders of deltas (peft `method_comparison/` habit).

    experiments/<study>/experiment.yaml     study, description, tasks, baseline, defaults
    experiments/<study>/<variant>.yaml      only what differs from the defaults, or
    experiments/<study>/<variant>/variant.yaml

A variant sets `model` (a registered model name), `model_args`, optional `task_models`
({task: model}, e.g. a tokenizer-only model for `reconstruction`) and `task_options`.
`run_experiment` runs each variant with `hmvlm_bench.runner.run` into
`<output_dir>/_runs/<variant>/` (resume works there), then gathers every result into
`<output_dir>/<variant>/<task>.json` with `model` set to the variant name, so
`hmvlm-bench compare --results <output_dir> --baseline <baseline>` and `report` read it.
"""
from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hmvlm_bench.errors import UserError
from hmvlm_bench.preflight import check_model_args
from hmvlm_bench.registry import Registries
from hmvlm_bench.results import (atomic_write_text, dump_result, load_result, result_path,
                                 samples_path)
from hmvlm_bench.runner import PairOutcome, RunConfig, RunSummary, run

EXPERIMENT_FILE = "experiment.yaml"
VARIANT_FILE = "variant.yaml"
STAGING = "_runs"  # below output_dir; `*/*.json` globs of the gathered tree never see it


class VariantDelta(BaseModel):
    """What one variant changes. Every field is optional: absent = the default."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    description: str = ""
    model: str | None = None
    model_args: dict[str, Any] = Field(default_factory=dict)
    task_models: dict[str, str] = Field(default_factory=dict)
    task_options: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ExperimentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    study: str
    description: str = ""
    tasks: list[str]
    baseline: str
    defaults: VariantDelta = Field(default_factory=VariantDelta)

    @field_validator("tasks")
    @classmethod
    def _nonempty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("tasks must list at least one task")
        return v


@dataclasses.dataclass(frozen=True)
class Variant:
    """A fully resolved variant: defaults merged with its delta."""

    name: str
    model: str
    model_args: dict[str, str]
    task_models: dict[str, str]
    task_options: dict[str, dict[str, Any]]
    description: str = ""

    def model_for(self, task: str) -> str:
        return self.task_models.get(task, self.model)


@dataclasses.dataclass(frozen=True)
class Experiment:
    folder: Path
    spec: ExperimentSpec
    variants: dict[str, Variant]


def deep_merge(base: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    """`delta` over `base`, recursively for nested mappings; `base` is not modified."""
    out = copy.deepcopy(base)
    for k, v in delta.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a mapping")
    return raw


def _validate(model: type[BaseModel], raw: dict[str, Any], path: Path) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(map(str, first["loc"])) or "(top)"
        raise UserError(f"{path}: {loc}: {first['msg']}") from exc


def _stringify(args: dict[str, Any]) -> dict[str, str]:
    """Model args travel as strings, like `--model-args k=v` (YAML `false` -> "false")."""
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in args.items()}


def load_experiment(folder: Path, base_model_args: dict[str, str] | None = None) -> Experiment:
    folder = Path(folder)
    spec_path = folder / EXPERIMENT_FILE
    if not spec_path.is_file():
        raise UserError(f"{folder} is not an experiment folder (no {EXPERIMENT_FILE})")
    spec: ExperimentSpec = _validate(ExperimentSpec, _load_yaml(spec_path), spec_path)
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix in (".yaml", ".yml") and p.name != EXPERIMENT_FILE:
            name = p.stem
        elif p.is_dir() and (p / VARIANT_FILE).is_file():
            name, p = p.name, p / VARIANT_FILE
        else:
            continue
        if name in found:
            raise UserError(f"variant '{name}' is defined twice in {folder}")
        if name == STAGING or "/" in name:
            raise UserError(f"invalid variant name '{name}' in {folder}")
        found[name] = p
    if not found:
        raise UserError(f"{folder} defines no variants (<name>.yaml or <name>/{VARIANT_FILE})")
    if spec.baseline not in found:
        raise UserError(f"{spec_path}: baseline '{spec.baseline}' is not a variant "
                        f"(variants: {', '.join(found)})")
    defaults = spec.defaults.model_dump()
    defaults["model_args"] = deep_merge(defaults["model_args"], dict(base_model_args or {}))
    variants: dict[str, Variant] = {}
    for name, path in found.items():
        raw = _load_yaml(path)
        _validate(VariantDelta, raw, path)  # reject unknown keys in the delta itself
        merged: VariantDelta = _validate(VariantDelta, deep_merge(defaults, raw), path)
        if not merged.model:
            raise UserError(f"{path}: no model (set `model:` here or in {EXPERIMENT_FILE} defaults)")
        variants[name] = Variant(name=name, model=merged.model,
                                 model_args=_stringify(merged.model_args),
                                 task_models=dict(merged.task_models),
                                 task_options=dict(merged.task_options),
                                 description=merged.description or raw.get("description", ""))
    return Experiment(folder=folder, spec=spec, variants=variants)


def _gather(staging: Path, out_dir: Path, variant: Variant, model: str, task: str,
            study: str) -> Path | None:
    """Copy one staged result to `<out>/<variant>/<task>.json`, renamed to the variant."""
    src = result_path(staging, model, task)
    if not src.is_file():
        return None
    res = load_result(src)
    extra = dict(res.extra)
    extra["experiment"] = {"study": study, "variant": variant.name, "model": model,
                           "model_args": variant.model_args}
    renamed = res.model_copy(update={"model": variant.name, "extra": extra})
    s_src = samples_path(staging, model, task)
    if s_src.is_file():
        atomic_write_text(samples_path(out_dir, variant.name, task), s_src.read_text(encoding="utf-8"))
    dst = result_path(out_dir, variant.name, task)
    atomic_write_text(dst, dump_result(renamed))
    return dst


def run_experiment(folder: Path, cfg: RunConfig, regs: Registries, world: Any = None) -> RunSummary:
    """Run every variant of the study in `folder`; results land in `cfg.output_dir/<variant>/`.

    `cfg.tasks` other than ["all"] narrows the study's tasks; `cfg.model_args` apply to every
    variant under its own delta; `cfg.models` is ignored (variants name their models)."""
    exp = load_experiment(folder, cfg.model_args)
    tasks = exp.spec.tasks if list(cfg.tasks) in ([], ["all"]) else list(cfg.tasks)
    for v in exp.variants.values():  # fail before any work on a typo
        for t in tasks:
            regs.models.canonical(v.model_for(t))
        for t in tasks:
            regs.tasks.canonical(t)
        check_model_args(v.model_args, {m: regs.models.get(m) for m in {v.model_for(t) for t in tasks}})
    out_dir = Path(cfg.output_dir)
    summary = RunSummary()
    is_main = world is None or getattr(world, "is_main", True)
    for v in exp.variants.values():
        staging = out_dir / STAGING / v.name
        by_model: dict[str, list[str]] = {}
        for t in tasks:
            by_model.setdefault(v.model_for(t), []).append(t)
        for model, mtasks in by_model.items():
            vcfg = dataclasses.replace(
                cfg, tasks=mtasks, models=[model], output_dir=staging, model_args=dict(v.model_args),
                task_options=deep_merge(dict(cfg.task_options), v.task_options))
            sub = run(vcfg, regs, world)
            for o in sub.outcomes:
                path = None
                if is_main and o.status in ("computed", "cached"):
                    path = _gather(staging, out_dir, v, o.model, o.task, exp.spec.study)
                detail = f"{o.model}: {o.detail}".rstrip(": ")
                summary.outcomes.append(PairOutcome(v.name, o.task, o.status, detail,
                                                    path or o.path, o.seconds))
    if is_main:
        manifest = {"study": exp.spec.study, "description": exp.spec.description.strip(),
                    "baseline": exp.spec.baseline, "tasks": tasks, "folder": str(exp.folder),
                    "variants": {n: dataclasses.asdict(v) for n, v in exp.variants.items()}}
        atomic_write_text(out_dir / "experiment.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return summary


__all__ = ["run_experiment", "load_experiment", "Experiment", "Variant", "VariantDelta",
           "ExperimentSpec", "deep_merge"]
