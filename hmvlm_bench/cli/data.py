"""Data sub-commands: synthesize the default dataset, validate datasets, import BVH.

Plain functions returning exit codes, wired into `hmvlm-bench data ...` by cli/main.py.
Heavy imports happen inside the functions.
"""
from __future__ import annotations

import sys
from pathlib import Path


from hmvlm_bench.errors import UserError



def synth_cmd(out: Path, size: int = 4000, seed: int = 0) -> int:
    """Write the synthetic dataset to `out`; prints the split counts. Returns 0."""
    import json

    from hmvlm_bench.motion.synthetic import synthesize

    root = synthesize(Path(out), size=size, seed=seed)
    counts = json.loads((root / "synthetic.json").read_text(encoding="utf-8"))["counts"]
    print(f"wrote {size} motions to {root}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def _parse_data(items: list[str]) -> list[tuple[str, Path]]:
    out = []
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise UserError(f"--data expects NAME=DIR, got '{item}'")
        out.append((name, Path(path).expanduser()))
    return out


def kind_for(name: str, path: Path) -> str:
    if (path / "synthetic.json").is_file() or name.startswith("synthetic"):
        return "synthetic"
    return "kit" if name.lower().startswith("kit") else "humanml3d"


def validate_cmd(data: list[str]) -> int:
    """Validate datasets given as ['NAME=DIR', ...]; one problem per line on stderr.

    Returns 0 when every dataset is sound, 2 otherwise.
    """
    from hmvlm_bench.motion.validate import validate_dataset

    problems: list[str] = []
    for name, path in _parse_data(data):
        problems += [f"{name}: {p}" for p in validate_dataset(path, kind=kind_for(name, path))]
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"{len(data)} dataset(s) OK")
    return 2 if problems else 0


def import_bvh_cmd(src: Path, out: Path, scale: float | None = None) -> int:
    """Convert a BVH file or a directory of them into HumanML3D layout under `out`."""
    from hmvlm_bench.motion.bvh import import_bvh

    ids = import_bvh(Path(src), Path(out), scale=scale)
    print(f"imported {len(ids)} clip(s) into {out}")
    return 0
