"""Resumable training state as safetensors + JSON (never pickle), shared by every trainer.

An optimizer's tensors go to safetensors as `state.<param index>.<name>`; its param
groups (plain numbers) go to JSON. `publish` renames `<name>.tmp` files into place in the
given order, the JSON last, so a killed save leaves the previous checkpoint usable.

Sharded training (FSDP2 under `accelerate launch`) holds parameters and optimizer moments as
DTensor shards: `full_tensor`, `optimizer_tensors` and `unshard_` gather them (collectives:
every rank must call them, in the same order; only the main process then writes), and
`copy_full_`/`load_optimizer` scatter full tensors back, so a checkpoint always holds full
tensors and resumes under any process count or wrapper (none, DDP, FSDP).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # pragma: no cover - torch is imported lazily (file_sha256 needs none)
    import torch


def _dtensor_type() -> Any:
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:  # pragma: no cover - torch built without distributed
        return None
    return DTensor


def full_tensor(t: "torch.Tensor") -> "torch.Tensor":
    """The whole tensor behind a DTensor shard (a collective), or `t` itself."""
    dt = _dtensor_type()
    return t.full_tensor() if dt is not None and isinstance(t, dt) else t


def is_sharded(module: "torch.nn.Module") -> bool:
    """Whether any parameter of `module` is a DTensor shard (FSDP2)."""
    dt = _dtensor_type()
    return dt is not None and any(isinstance(p, dt) for p in module.parameters())


def copy_full_(param: "torch.Tensor", full: "torch.Tensor") -> None:
    """Copy a full tensor into a parameter, scattering it when the parameter is sharded."""
    dt = _dtensor_type()
    if dt is not None and isinstance(param, dt):
        from torch.distributed.tensor import distribute_tensor

        full = distribute_tensor(full.to(param.device, param.dtype), param.device_mesh, param.placements)
    param.copy_(full)


def unshard_(module: "torch.nn.Module") -> int:
    """Replace every sharded parameter of `module` by a plain full one, in place, keeping
    tied parameters tied (a collective). Used once, after training, before `save`.
    Returns the number of parameters gathered."""
    import torch

    dt = _dtensor_type()
    if dt is None:
        return 0
    done: dict[int, torch.nn.Parameter] = {}
    for sub in module.modules():
        for name, p in list(sub._parameters.items()):
            if p is not None and isinstance(p, dt):
                if id(p) not in done:
                    done[id(p)] = torch.nn.Parameter(p.full_tensor().detach().clone(), requires_grad=p.requires_grad)
                sub._parameters[name] = done[id(p)]
    return len(done)


def optimizer_tensors(opt: "torch.optim.Optimizer") -> "dict[str, torch.Tensor]":
    """Optimizer state as full CPU tensors (sharded moments gathered: every rank must call)."""
    import torch

    sd = opt.state_dict()
    return {f"state.{i}.{name}": full_tensor(t if torch.is_tensor(t) else torch.tensor(t)).detach().cpu().contiguous()
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
    dt = _dtensor_type()
    params = [p for g in opt.param_groups for p in g["params"]]  # state_dict's index order
    if dt is not None:
        from torch.distributed.tensor import distribute_tensor

        for i, st in state.items():
            p = params[i] if i < len(params) else None
            if p is not None and isinstance(p, dt):  # moments are sharded like their parameter
                st.update({name: distribute_tensor(t.to(p.device), p.device_mesh, p.placements)
                           for name, t in st.items() if t.shape == p.shape})
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


def safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file cannot be loaded (empty, truncated, bad header), or None.

    Reads the header only (8-byte little-endian length + JSON): the file must be exactly as
    long as the header says its tensors need, so a truncated copy is caught without loading."""
    import json
    import struct

    path = Path(path)
    size = path.stat().st_size
    if size < 8:
        return f"{path}: {'empty' if size == 0 else 'truncated'} safetensors file ({size} bytes)"
    with path.open("rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        if n > size - 8:
            return f"{path}: truncated safetensors file (header says {n} bytes, file has {size})"
        try:
            header = json.loads(fh.read(n))
        except (ValueError, UnicodeDecodeError):
            return f"{path}: not a safetensors file (unreadable header)"
    if not isinstance(header, dict):
        return f"{path}: not a safetensors file (header is not a table)"
    try:
        end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    except (KeyError, TypeError, ValueError, IndexError):
        return f"{path}: not a safetensors file (bad tensor entries)"
    if 8 + n + end != size:
        return f"{path}: truncated safetensors file ({size} bytes, tensors need {8 + n + end})"
    return None


def json_problem(path: Path) -> str | None:
    """Why a JSON file cannot be read as an object (empty, truncated, not UTF-8), or None."""
    import json

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return f"{path}: not UTF-8 text"
    except ValueError as exc:
        return f"{path}: not valid JSON ({'empty file' if not path.read_bytes().strip() else exc})"
    if not isinstance(data, dict):
        return f"{path}: expected a JSON object, got {type(data).__name__}"
    return None


def checkpoint_problems(directory: Path) -> list[str]:
    """One line per unreadable file of a checkpoint folder (its `work/` resume state aside)."""
    directory = Path(directory)
    out: list[str] = []
    for p in sorted(directory.rglob("*")):
        if p.relative_to(directory).parts[0] == "work" or not p.is_file():
            continue
        why = (safetensors_problem(p) if p.suffix == ".safetensors"
               else json_problem(p) if p.suffix == ".json" else None)
        if why:
            out.append(why)
    return out
