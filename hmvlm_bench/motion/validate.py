"""Check a HumanML3D-layout dataset directory and name every problem, one line each."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.dataset import SPLITS, dataset_spec, parse_caption_line


def validate_dataset(root: str | Path, kind: str = "humanml3d", require_captions: bool = True) -> list[str]:
    """Every problem found in `root` as one line ('' list when the dataset is sound).

    Checks: directory and new_joint_vecs/ exist; Mean.npy/Std.npy present, right width,
    finite, Std > 0; at least one split file; every split id has a feature file of width D
    with >= 1 frame and only finite values; every such id has a UTF-8 caption file whose
    lines parse as `caption#tokens#start#end` (a missing caption file is fine when
    `require_captions=False`, e.g. imported BVH). Reads every feature file once.
    """
    root = Path(root)
    try:
        spec = dataset_spec(kind, root)
    except UserError as exc:
        return [str(exc)]
    if not root.is_dir():
        return [f"{root}: directory not found"]
    dim = spec.feature_dim
    problems: list[str] = []
    motion_dir, text_dir = root / "new_joint_vecs", root / "texts"
    if not motion_dir.is_dir():
        problems.append(f"{motion_dir}: directory missing")
    for name in ("Mean.npy", "Std.npy"):
        path = root / name
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        try:
            arr = np.load(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a finding
            problems.append(f"{path}: unreadable ({exc})")
            continue
        if arr.shape != (dim,):
            problems.append(f"{path}: shape {arr.shape}, expected ({dim},) for {spec.kind}")
        elif not np.isfinite(arr).all():
            problems.append(f"{path}: contains NaN or inf")
        elif name == "Std.npy" and (arr <= 0).any():
            problems.append(f"{path}: {int((arr <= 0).sum())} zero or negative entries")
    splits = [s for s in SPLITS if (root / f"{s}.txt").is_file()]
    if not splits:
        problems.append(f"{root}: no split file (train.txt, val.txt, test.txt)")
    checked: set[str] = set()
    for split in splits:
        for line_no, raw in enumerate((root / f"{split}.txt").read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            cid = raw.strip()
            if not cid or cid in checked:
                continue
            checked.add(cid)
            problems += _check_clip(motion_dir, text_dir, cid, dim, f"{split}.txt:{line_no}", require_captions)
    return problems


def _check_clip(motion_dir: Path, text_dir: Path, cid: str, dim: int, where: str, require_captions: bool) -> list[str]:
    out: list[str] = []
    path = motion_dir / f"{cid}.npy"
    if not path.is_file():
        return [f"{where}: id {cid} has no feature file {path}"]
    try:
        feats = np.load(path)
    except Exception as exc:  # noqa: BLE001
        return [f"{path}: unreadable ({exc})"]
    if feats.ndim != 2 or feats.shape[1] != dim:
        out.append(f"{path}: shape {feats.shape}, expected (T, {dim})")
    elif feats.shape[0] == 0:
        out.append(f"{path}: zero-length motion")
    elif not np.isfinite(feats).all():
        out.append(f"{path}: contains NaN or inf")
    txt = text_dir / f"{cid}.txt"
    if not txt.is_file():
        if not require_captions:
            return out
        out.append(f"{where}: id {cid} has no caption file {txt}")
        return out
    try:
        lines = txt.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        out.append(f"{txt}: not UTF-8")
        return out
    if not any(line.strip() for line in lines):
        out.append(f"{txt}: no captions")
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                parse_caption_line(line)
            except ValueError as exc:
                out.append(f"{txt}:{n}: {exc}")
    return out
