"""Resumable training state as safetensors + JSON (never pickle), shared by every trainer.

An optimizer's tensors go to safetensors as `state.<param index>.<name>`; its param
groups (plain numbers) go to JSON. `publish` renames `<name>.tmp` files into place in the
given order, the JSON last, so a killed save leaves the previous checkpoint usable.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # pragma: no cover - torch is imported lazily (file_sha256 needs none)
    import torch


def optimizer_tensors(opt: "torch.optim.Optimizer") -> "dict[str, torch.Tensor]":
    import torch

    sd = opt.state_dict()
    return {f"state.{i}.{name}": (t if torch.is_tensor(t) else torch.tensor(t)).detach().cpu().contiguous()
            for i, st in sd["state"].items() for name, t in st.items()}


def optimizer_groups(opt: "torch.optim.Optimizer") -> list[dict[str, Any]]:
    return list(opt.state_dict()["param_groups"])


def load_optimizer(opt: "torch.optim.Optimizer", tensors: "dict[str, torch.Tensor]",
                   param_groups: list[dict[str, Any]]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, t in tensors.items():
        if key.startswith("state."):
            _, i, name = key.split(".", 2)
            state.setdefault(int(i), {})[name] = t
    opt.load_state_dict({"state": state, "param_groups": param_groups})


def publish(directory: Path, names: Sequence[str]) -> None:
    """Rename `<name>.tmp` to `<name>` for each name, in order (put the JSON last)."""
    for name in names:
        (Path(directory) / f"{name}.tmp").replace(Path(directory) / name)


def file_sha256(path: Path, digest_only: bool = False) -> Any:
    """sha256 of a file's bytes, read in 1 MiB blocks (hex string, or raw bytes)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.digest() if digest_only else h.hexdigest()
