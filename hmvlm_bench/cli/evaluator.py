"""`hmvlm-bench train evaluator`: train the contrastive text-motion evaluator.

The lead wires `train_evaluator_cmd` into the typer app; imports stay inside the function
so `hmvlm-bench --help` remains instant.
"""
from __future__ import annotations

from pathlib import Path


def train_evaluator_cmd(data: str | None, preset: str = "mini", out: Path | None = None) -> Path:
    """Train an evaluator of `preset` ('tiny' | 'mini' | 'paper') on `data` ('kind=PATH' or
    a dataset folder; None: the preset's embedded synthetic set). With `out` the files go
    there; otherwise into the artifact cache, keyed by the config and the dataset hash, and
    an existing one is reused. Returns the evaluator folder."""
    from hmvlm_bench.artifacts import ArtifactStore
    from hmvlm_bench.evaluators.contrastive import evaluator_config_for_preset, train_contrastive_evaluator
    from hmvlm_bench.motion.dataset import load_dataset

    cfg = evaluator_config_for_preset(preset)
    store = ArtifactStore()
    if data is None:
        from hmvlm_bench.context import DataCatalog
        from hmvlm_bench.presets import get_preset

        data = str(DataCatalog(preset=get_preset(preset), artifacts=store).root("synthetic"))
    train = load_dataset(data, "train")
    if cfg.feature_dim != train.spec.feature_dim:  # KIT-ML: 251-d
        from dataclasses import replace

        cfg = replace(cfg, feature_dim=train.spec.feature_dim)
    if out is not None:
        return train_contrastive_evaluator(data, Path(out), cfg, progress=True)
    key = {"evaluator": cfg.to_dict(), "dataset": train.dataset_hash(all_splits=True)}
    return store.get_or_build("evaluator", key, lambda tmp: train_contrastive_evaluator(data, tmp, cfg, progress=True))
