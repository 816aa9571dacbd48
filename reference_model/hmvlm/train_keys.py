"""What identifies a training run's inputs and outputs: the artifact store, the dataset a run
trains on, the cache keys of tokenizers and models (`model_artifact_config`), the tokenizer
trainer. Cheap: nothing here loads weights. (Split out of `training.py`, issue 16; the names
are re-exported there.)"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from hmvlm_bench.errors import UserError
from reference_model.hmvlm.config import HMVLMConfig, missing_paths

MODEL_FORMAT = 1
REPO_ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------- stores & data
def make_store(cache_dir: Path | str | None = None) -> Any:
    """The store with the shipped checkpoints (`hmvlm_bench.artifacts.open_store`)."""
    from hmvlm_bench.artifacts import open_store

    return open_store(cache_dir)


def _data_paths(data: str | list[str] | None) -> dict[str, Path]:
    """`--data NAME=DIR` (one string or the CLI's list) -> {name: path}."""
    from hmvlm_bench.cli.args import parse_data_paths

    return parse_data_paths([data] if isinstance(data, str) else data)


def resolve_data(preset: str, data: str | list[str] | None, store: Any,
                 default: str | None = None) -> tuple[Path, str, str]:
    """`--data NAME=DIR` (or None: `default`, else the preset's dataset, synthetic below
    `paper`) -> (root, name, fingerprint)."""
    from hmvlm_bench.context import DataCatalog
    from hmvlm_bench.presets import get_preset

    paths = _data_paths(data)
    if len(paths) > 1:
        raise UserError(f"training takes one dataset, got --data for {', '.join(paths)}")
    p = get_preset(preset)
    name = next(iter(paths), None) or default or p.dataset or "synthetic"
    catalog = DataCatalog(p, store, paths)
    return catalog.root(name), name, catalog.fingerprint(name)


def training_preflight(preset: str, variant: str, data: str | list[str] | None, model_args: dict[str, Any]) -> None:
    """Name every missing input of a training run in one line, before any work starts."""
    from hmvlm_bench.presets import get_preset

    dataset = get_preset(preset).dataset
    paths = _data_paths(data)
    missing = [f"--data {name}={path} (no such directory)" for name, path in paths.items() if not path.is_dir()]
    if dataset is not None and not paths:
        missing.append(f"--data {dataset}=DIR")
    missing += missing_paths(preset, model_args, variant)
    if missing:
        raise UserError(f"preset '{preset}' is missing: " + "; ".join(missing))


def tokenizer_key(preset: str, variant: str, data_fp: str, steps: int | None = None) -> dict[str, Any]:
    from reference_model.tokenizer.config import TokenizerConfig

    over = {"steps": steps} if steps else {}
    return {"preset": preset, "variant": variant, "data": data_fp, "seed": 0,
            "config": TokenizerConfig.for_preset(preset, variant, **over).to_dict()}


def tokenizer_artifact(store: Any, preset: str, variant: str, root: Path, data_fp: str,
                       steps: int | None = None, progress: bool = True) -> Path:
    """Train (resumably, in the store's work dir) or find the tokenizer for (preset, variant, data)."""
    from reference_model.tokenizer.training import train_tokenizer

    key = tokenizer_key(preset, variant, data_fp, steps)

    def build(tmp: Path) -> None:
        work = store.work_dir("tokenizer", key)
        train_tokenizer(root, work, preset=preset, variant=variant, steps=steps, progress=progress)
        for f in ("tokenizer.safetensors", "config.json", "train_log.json"):
            shutil.copyfile(work / f, tmp / f)

    return store.get_or_build("tokenizer", key, build)


def train_tokenizer_cmd(preset: str = "mini", variant: str = "body-part", data: str | None = None,
                        out: Path | str | None = None, steps: int | None = None,
                        cache_dir: Path | str | None = None) -> Path:
    """Trainer "tokenizer": body-part | pose | whole-body | whole-body-x5."""
    from reference_model.tokenizer.training import train_tokenizer

    store = make_store(cache_dir)
    root, _, fp = resolve_data(preset, data, store)
    if out is not None:
        return train_tokenizer(root, Path(out), preset=preset, variant=variant, steps=steps)
    return tokenizer_artifact(store, preset, variant, root, fp, steps)


def model_artifact_config(cfg: HMVLMConfig, data_fp: str) -> dict[str, Any]:
    """Everything that determines a trained checkpoint (cheap: no weights are loaded)."""
    from reference_model.hmvlm.network import llm_fingerprint

    return {"format": MODEL_FORMAT, "config": cfg.to_dict(), "data": data_fp, "llm": llm_fingerprint(cfg),
            "tokenizers": {"motion": tokenizer_key(cfg.tokenizer_preset or cfg.preset, cfg.motion_tokenizer, data_fp, cfg.tokenizer_steps),
                           "pose": tokenizer_key(cfg.tokenizer_preset or cfg.preset, "pose", data_fp, cfg.tokenizer_steps)}}
