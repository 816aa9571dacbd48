"""Versions and git hash recorded in every result (a number without provenance is not a result)."""
from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

TRACKED_PACKAGES = ("hmvlm-bench", "torch", "transformers", "peft", "lm-eval", "numpy", "scipy", "accelerate")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def torch_threads() -> int | None:
    """Intra-op threads torch uses: sampled results depend on it (reduction order changes
    logits in the last bits, and a sampled token can flip), so every result records it."""
    try:
        import torch
    except ImportError:
        return None
    return int(torch.get_num_threads())


@lru_cache(maxsize=1)
def git_hash(repo: Path | None = None) -> str | None:
    root = repo or Path(__file__).resolve().parents[1]
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return res.stdout.strip() + ("-dirty" if dirty else "")
