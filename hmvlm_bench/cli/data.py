"""`hmvlm-bench data synth|import-bvh|validate`: synthesize the default dataset, import BVH,
validate datasets.

The commands wrap plain functions returning exit codes (`synth_cmd`, `import_bvh_cmd`,
`validate_cmd`, `dataset_problems`), which tests call directly. Heavy imports happen inside
the functions.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from hmvlm_bench.cli.common import area_app

app = area_app(help="Make, import and check motion datasets (HumanML3D layout).", no_args_is_help=True)


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

    # an imported BVH folder has no captions by construction: fine for reconstruction
    return [f"{name}: {p}" for name, path in parse_data_paths(data).items()
            for p in validate_dataset(path, kind=kind_for(name, path),
                                      require_captions=not (path / "bvh_import.json").is_file())]


def validate_cmd(data: list[str]) -> int:
    """Validate datasets given as ['NAME=DIR', ...]; one problem per line on stderr.
    Returns 0 when every dataset is sound, 2 otherwise.
    """
    problems = dataset_problems(data)
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f"{len(data)} dataset(s) OK")
        from hmvlm_bench.cli.args import parse_data_paths

        for name, path in parse_data_paths(data).items():
            if (path / "bvh_import.json").is_file():
                print(f"{name}: imported BVH without captions: for reconstruction_bvh / reconstruction, "
                      "not for text tasks")
    return 2 if problems else 0


def import_bvh_cmd(src: Path, out: Path, scale: float | None = None) -> int:
    """Convert a BVH file or a directory of them into HumanML3D layout under `out`.
    Files that fail are named on stderr and skipped; returns 1 if any failed, else 0."""
    from hmvlm_bench.motion.bvh import import_bvh

    res = import_bvh(Path(src), Path(out), scale=scale)
    for reason in res.failed.values():
        print(f"skipped {reason}", file=sys.stderr)
    n_files = len({cid.rsplit("_", 1)[0] for cid in res.ids})
    print(f"imported {len(res.ids)} clip(s) from {n_files} file(s) into {out}"
          + (f"; {len(res.failed)} file(s) failed (named above)" if res.failed else ""))
    print(f"use it with: hmvlm-bench run --tasks reconstruction_bvh --data bvh={out}")
    return 1 if res.failed else 0


# ------------------------------------------------------------------------------ commands
@app.command("synth")
def data_synth(
    out: Path = typer.Option(..., "--out", help="Output folder (HumanML3D layout)."),
    size: int = typer.Option(4000, help="Number of motions."),
    seed: int = typer.Option(0, help="Same seed, byte-identical files."),
) -> None:
    """Generate the embedded synthetic compositional text-motion dataset."""
    raise typer.Exit(synth_cmd(out, size, seed))


@app.command("import-bvh")
def data_import_bvh(
    src: Path = typer.Argument(..., help="A .bvh file or a folder of them."),
    out: Path = typer.Option(..., "--out", help="Output folder (HumanML3D layout, no captions)."),
    scale: Optional[float] = typer.Option(None, help="Metres per BVH unit (default: guessed from the skeleton height)."),
) -> None:
    """Import BVH motion capture: retarget to 22 joints, resample to 20 fps, 263-d features."""
    raise typer.Exit(import_bvh_cmd(src, out, scale))


@app.command("validate")
def data_validate(data: list[str] = typer.Option(..., "--data", help="NAME=DIR")) -> None:
    """Same as `hmvlm-bench validate --data ...`."""
    from hmvlm_bench.cli.run_cmd import validate

    validate(data=data, results=None, include_path=None)
