"""Data sub-commands: synthesize the default dataset, validate datasets, import BVH.

Plain functions returning exit codes, wired into `hmvlm-bench data ...` by cli/main.py.
Heavy imports happen inside the functions.
"""
from __future__ import annotations

import sys
from pathlib import Path





def synth_cmd(out: Path, size: int = 4000, seed: int = 0) -> int:
    """Write the synthetic dataset to `out`; prints the split counts. Returns 0."""
    import json

    from hmvlm_bench.motion.synthetic import synthesize

    root = synthesize(Path(out), size=size, seed=seed)
    counts = json.loads((root / "synthetic.json").read_text(encoding="utf-8"))["counts"]
    print(f"wrote {size} motions to {root}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def kind_for(name: str, path: Path) -> str:
    if (path / "synthetic.json").is_file() or name.startswith("synthetic"):
        return "synthetic"
    return "kit" if name.lower().startswith("kit") else "humanml3d"


def dataset_problems(data: list[str]) -> list[str]:
    """Every problem of the datasets given as ['NAME=DIR', ...], one line each."""
    from hmvlm_bench.cli.args import parse_data_paths
    from hmvlm_bench.motion.validate import validate_dataset

    return [f"{name}: {p}" for name, path in parse_data_paths(data).items()
            for p in validate_dataset(path, kind=kind_for(name, path))]


def validate_cmd(data: list[str]) -> int:
    """Validate datasets given as ['NAME=DIR', ...]; one problem per line on stderr.
    Returns 0 when every dataset is sound, 2 otherwise.
    """
    problems = dataset_problems(data)
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
