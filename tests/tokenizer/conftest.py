"""Fixtures: a small HumanML3D-layout dataset of smooth random 263-d motions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def write_fake_humanml3d(root: Path, n_train: int = 24, n_val: int = 6, seed: int = 0) -> Path:
    """Smooth low-rank features, lengths 40..96, with Mean/Std and split files."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True)
    ids = [f"{i:06d}" for i in range(n_train + n_val)]
    # low-rank like real motion: 4 latent sinusoids mixed into 263 correlated features
    mixing = rng.normal(size=(4, 263))
    allf = []
    for mid in ids:
        t = np.arange(int(rng.integers(40, 97)))[:, None]
        latent = np.sin(rng.uniform(0.05, 0.3, size=4) * t + rng.uniform(0, 6.3, size=4))
        x = (latent @ mixing + 0.01 * rng.normal(size=(len(t), 263))).astype(np.float32)
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


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Small models run faster on one thread, and the shared 2-core CI box stays usable."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
