"""Data sub-commands: synthesize the default dataset, validate datasets, import BVH.

Plain functions returning exit codes (the lead wires them into the main typer app); `app`
is a small typer app with the same commands. Heavy imports happen inside the functions.
"""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from hmvlm_bench.errors import UserError

app = typer.Typer(help="Motion data: synthesize, validate, import BVH.", no_args_is_help=True)


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


def _kind_for(name: str, path: Path) -> str:
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
        problems += [f"{name}: {p}" for p in validate_dataset(path, kind=_kind_for(name, path))]
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


def _run(fn, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    try:
        code = fn(*args, **kwargs)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command("synth")
def synth(
    out: Path = typer.Argument(..., help="Output directory."),
    size: int = typer.Option(4000, help="Number of motions."),
    seed: int = typer.Option(0, help="Generator seed (same seed: byte-identical files)."),
) -> None:
    """Generate the embedded synthetic text-motion dataset (HumanML3D layout)."""
    _run(synth_cmd, out, size, seed)


@app.command("validate")
def validate(data: list[str] = typer.Argument(..., help="NAME=DIR pairs, e.g. humanml3d=/data/HumanML3D.")) -> None:
    """Check dataset directories; one line per problem, exit 2 if any."""
    _run(validate_cmd, data)


@app.command("import-bvh")
def import_bvh(
    src: Path = typer.Argument(..., help="A .bvh file or a directory of them."),
    out: Path = typer.Argument(..., help="Output directory (HumanML3D layout)."),
    scale: float = typer.Option(None, help="Metres per BVH unit (default: guessed from the skeleton height)."),
) -> None:
    """Import BVH motion capture as 22-joint HumanML3D features (no captions)."""
    _run(import_bvh_cmd, src, out, scale)
