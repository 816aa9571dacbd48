"""Fixtures: a small HumanML3D-layout dataset of smooth random 263-d motions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def write_fake_humanml3d(root: Path, n_train: int = 24, n_val: int = 6, seed: int = 0) -> Path:
    """Smooth (sum of sinusoids) features, lengths 40..96, with Mean/Std and split files."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True)
    ids = [f"{i:06d}" for i in range(n_train + n_val)]
    freqs = rng.uniform(0.05, 0.3, size=(3, 263))
    allf = []
    for mid in ids:
        t = np.arange(int(rng.integers(40, 97)))[:, None]
        amp = rng.normal(size=(3, 263))
        phase = rng.uniform(0, 6.3, size=(3, 263))
        x = sum(amp[k] * np.sin(freqs[k] * t + phase[k]) for k in range(3)).astype(np.float32)
        np.save(root / "new_joint_vecs" / f"{mid}.npy", x)
        allf.append(x)
    cat = np.concatenate(allf)
    np.save(root / "Mean.npy", cat.mean(0))
    np.save(root / "Std.npy", cat.std(0))
    (root / "train.txt").write_text("\n".join(ids[:n_train]) + "\n")
    (root / "val.txt").write_text("\n".join(ids[n_train:]) + "\n")
    return root


@pytest.fixture(scope="session")
def fake_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_humanml3d(tmp_path_factory.mktemp("h3d"))
