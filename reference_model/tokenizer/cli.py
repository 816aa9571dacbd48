"""`hmvlm-bench train tokenizer` backend (the lead wires it into the typer app)."""
from __future__ import annotations

from pathlib import Path

from hmvlm_bench.errors import UserError


def _data_root(data: str | Path | None) -> Path:
    if data is None:
        raise UserError("train tokenizer needs --data NAME=DIR (a HumanML3D-layout folder)")
    text = str(data)
    root = Path(text.split("=", 1)[1] if "=" in text else text).expanduser()
    if not root.is_dir():
        raise UserError(f"dataset folder not found: {root}")
    return root


def train_tokenizer_cmd(preset: str = "mini", variant: str = "body-part", data: str | Path | None = None,
                        out: Path | None = None, steps: int | None = None, cache_dir: Path | None = None,
                        seed: int = 0, progress: bool = True) -> Path:
    """Train (or resume, or reuse a finished) tokenizer; returns the folder holding
    tokenizer.safetensors + config.json. Without `out`, the artifact cache keyed by
    (preset, variant, steps, seed, dataset path) is used, its `.work` folder holding the
    resumable checkpoint."""
    from reference_model.tokenizer.config import TokenizerConfig
    from reference_model.tokenizer.training import train_tokenizer

    root = _data_root(data)
    TokenizerConfig.for_preset(preset, variant)  # validate names before any work
    if out is not None:
        return train_tokenizer(root, out, preset, variant, steps=steps, seed=seed, progress=progress)

    import shutil

    from hmvlm_bench.artifacts import ArtifactStore, default_cache_dir

    store = ArtifactStore(Path(cache_dir) if cache_dir else default_cache_dir())
    key = {"preset": preset, "variant": variant, "steps": steps, "seed": seed, "data": str(root.resolve())}
    work = store.work_dir("tokenizer", key)

    def build(tmp: Path) -> None:
        done = train_tokenizer(root, work, preset, variant, steps=steps, seed=seed, progress=progress)
        for name in ("tokenizer.safetensors", "config.json", "train_log.json"):
            shutil.copy2(done / name, tmp / name)

    return store.get_or_build("tokenizer", key, build)
