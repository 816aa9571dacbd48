"""Shared helpers for the motion tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def make_dataset(root: Path, dim: int = 263, lengths: dict[str, int] | None = None) -> Path:
    lengths = lengths or {"000001": 100, "M000001": 100, "000002": 30, "000003": 150, "000004": 60}
    rng = np.random.default_rng(0)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    for cid, n in lengths.items():
        np.save(root / "new_joint_vecs" / f"{cid}.npy", rng.normal(size=(n, dim)).astype(np.float32))
        (root / "texts" / f"{cid}.txt").write_text(
            "a person walks#a/DET person/NOUN walk/VERB#0.0#0.0\n"
            "someone waves#someone/PRON wave/VERB#1.0#4.0\n"  # frames 20..80 (HumanML3D fps)
            "tiny span#tiny/ADJ span/NOUN#0.5#1.0\n",  # 10 frames: dropped
            encoding="utf-8",
        )
    np.save(root / "Mean.npy", np.full(dim, 0.5, np.float32))
    np.save(root / "Std.npy", np.full(dim, 2.0, np.float32))
    (root / "train.txt").write_text("000001\nM000001\n000002\n")
    (root / "test.txt").write_text("000003\n000004\n")
    return root
