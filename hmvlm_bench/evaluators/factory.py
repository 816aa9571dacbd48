"""Which evaluator a dataset gets.

- `--evaluator NAME=DIR` pointing at Guo et al.'s official files (HumanML3D/KIT-ML): the
  port in `guo_t2m`, so numbers are comparable with published tables;
- `--evaluator NAME=DIR` pointing at a trained contrastive evaluator (config.json +
  evaluator.safetensors): that one;
- the embedded `synthetic` dataset: our contrastive evaluator, trained once per
  (config, dataset) and cached as an artifact (its sha256 goes into every result).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hmvlm_bench.errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    from hmvlm_bench.artifacts import ArtifactStore
    from hmvlm_bench.context import DataCatalog, TaskContext
    from hmvlm_bench.evaluators.base import Evaluator


def _official_files(root: Path, dataset: str) -> tuple[Path, Path] | None:
    """(finest.tar, glove dir) in the layouts the public archives unpack to."""
    sub = "kit" if dataset.startswith("kit") else "t2m"
    ckpts = [root / "finest.tar", root / "text_mot_match" / "model" / "finest.tar",
             root / sub / "text_mot_match" / "model" / "finest.tar"]
    gloves = [root / "glove", root.parent / "glove", root.parent.parent / "glove"]
    ckpt = next((c for c in ckpts if c.is_file()), None)
    glove = next((g for g in gloves if (g / "our_vab_data.npy").is_file()), None)
    return (ckpt, glove) if ckpt and glove else None


def is_official_evaluator_dir(path: Path, dataset: str) -> bool:
    """Whether `path` holds Guo et al.'s official evaluator files (not a contrastive one)."""
    path = Path(path)
    if (path / "config.json").is_file() and (path / "evaluator.safetensors").is_file():
        return False
    return _official_files(path, dataset) is not None


def load_evaluator_dir(path: Path, dataset: str) -> "Evaluator":
    path = Path(path)
    if (path / "config.json").is_file() and (path / "evaluator.safetensors").is_file():
        from hmvlm_bench.evaluators.contrastive import load_evaluator

        return load_evaluator(path)
    found = _official_files(path, dataset)
    if found is None:
        raise UserError(f"--evaluator {dataset}={path}: expected Guo et al.'s text_mot_match/model/finest.tar"
                        " with a glove/ folder (our_vab_*), or a trained contrastive evaluator folder")
    from hmvlm_bench.evaluators.guo_t2m import GuoT2MEvaluator

    return GuoT2MEvaluator(found[0], found[1], dataset="kit" if dataset.startswith("kit") else "t2m")


def evaluator_artifact(store: "ArtifactStore", preset: str, data: "DataCatalog", dataset: str,
                       progress: bool = True) -> Path:
    """Train (or find) the contrastive evaluator for a dataset of the catalog."""
    from dataclasses import replace

    from hmvlm_bench.evaluators.contrastive import (evaluator_config_for_preset,
                                                    train_contrastive_evaluator)

    cfg = evaluator_config_for_preset(preset)
    root = data.root(dataset)
    width = data.get(dataset, "train").spec.feature_dim
    if width != cfg.feature_dim:  # KIT-ML: 251-d
        cfg = replace(cfg, feature_dim=width)
    key: dict[str, Any] = {"evaluator": cfg.to_dict(), "dataset": data.fingerprint(dataset)}
    return store.get_or_build(
        "evaluator", key, lambda tmp: train_contrastive_evaluator(root, tmp, cfg, progress=progress))


def get_evaluator(ctx: "TaskContext", dataset: str) -> "Evaluator":
    if dataset in ctx.evaluator_paths:
        return load_evaluator_dir(ctx.evaluator_paths[dataset], dataset)
    if dataset != "synthetic" or dataset in ctx.data.paths:
        raise UserError(
            f"dataset '{dataset}' needs an evaluator: pass --evaluator {dataset}=DIR (Guo et al.'s "
            f"official files, for comparable numbers) or train one with "
            f"`hmvlm-bench train evaluator --data {dataset}=DIR` and pass its folder")
    from hmvlm_bench.evaluators.contrastive import load_evaluator

    return load_evaluator(evaluator_artifact(ctx.artifacts, ctx.preset.name, ctx.data, dataset,
                                             progress=ctx.progress))


def train_evaluator_cmd(preset: str = "mini", data: str | None = None, out: Path | None = None,
                        cache_dir: Path | None = None) -> Path:
    """`hmvlm-bench train evaluator`: into the artifact cache (the folder `run` will use),
    or into `out`."""
    import sys

    from hmvlm_bench.artifacts import open_store
    from hmvlm_bench.cli.args import parse_data_paths
    from hmvlm_bench.context import DataCatalog
    from hmvlm_bench.presets import get_preset

    # like `train tokenizer` / `train model`: the shipped checkpoint for this exact config
    # is the answer (it used to be ignored, and 22 CPU-minutes went into retraining it)
    store = open_store(cache_dir)
    paths = parse_data_paths([data]) if data and "=" in data else (
        {"custom": Path(data)} if data else {})
    name = next(iter(paths), "synthetic")
    catalog = DataCatalog(preset=get_preset(preset), artifacts=store, paths=paths)
    if out is None:
        path = evaluator_artifact(store, preset, catalog, name)
        where = "shipped" if any(path.is_relative_to(r) for r in store.shipped) else "cached"
        print(f"evaluator ({where}, trained for exactly this config): {path}", file=sys.stderr)
        return path
    from dataclasses import replace

    from hmvlm_bench.evaluators.contrastive import (evaluator_config_for_preset,
                                                    train_contrastive_evaluator)

    cfg = evaluator_config_for_preset(preset)
    width = catalog.get(name, "train").spec.feature_dim
    cfg = replace(cfg, feature_dim=width) if width != cfg.feature_dim else cfg
    return train_contrastive_evaluator(catalog.root(name), Path(out), cfg, progress=True)
