"""Fixtures for task tests: one small synthetic dataset, a stub evaluator, fake models."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest

from hmvlm_bench.artifacts import ArtifactStore
from hmvlm_bench.context import DataCatalog, TaskContext
from hmvlm_bench.contracts import Capability, Prediction
from hmvlm_bench.presets import get_preset
from hmvlm_bench.runner import ModelView


class StubEvaluator:
    """A deterministic projection evaluator. Motions: mean and std of normalised frames
    through a fixed random matrix. Texts: the embedding of the motion the caption
    belongs to in `texts_to_motion` (a lookup, so matching texts and motions are close),
    else a hash-seeded random vector. Enough to test the task plumbing, not a metric."""

    name = "stub"
    dim = 16
    feature_dim = 263

    def __init__(self, texts_to_motion: dict[str, np.ndarray] | None = None, seed: int = 0) -> None:
        self.proj = np.random.default_rng(seed).normal(size=(2 * 263, self.dim)) / np.sqrt(263)
        self.lookup = texts_to_motion or {}
        self.calls: list[tuple[str, int]] = []

    @property
    def fingerprint(self) -> str:
        return "stub-0"

    def _motion(self, m: np.ndarray) -> np.ndarray:
        m = np.asarray(m, dtype=np.float64)
        return np.concatenate([m.mean(0), m.std(0)]) @ self.proj

    def encode_motion(self, motions: Sequence[np.ndarray], lengths: Sequence[int]) -> np.ndarray:
        self.calls.append(("motion", len(motions)))
        return np.stack([self._motion(np.asarray(m)[:n]) for m, n in zip(motions, lengths)])

    def encode_text(self, captions: Sequence[str], tokens: Any = None) -> np.ndarray:
        self.calls.append(("text", len(captions)))
        out = []
        for c in captions:
            if c in self.lookup:
                out.append(self._motion(self.lookup[c]))
            else:
                seed = int.from_bytes(c.encode()[:8].ljust(8, b"\0"), "little")
                out.append(np.random.default_rng(seed).normal(size=self.dim) * 3)
        return np.stack(out)


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hmvlm_bench.motion.synthetic import synthesize

    return synthesize(tmp_path_factory.mktemp("synth"), size=300, seed=0)


def make_ctx(root: Path, tmp: Path, limit: int | None = None, evaluator: Any = "stub",
             extra_paths: dict[str, Path] | None = None, preset: str = "tiny") -> TaskContext:
    p = get_preset(preset)
    arts = ArtifactStore(tmp / "cache")
    data = DataCatalog(p, arts, {"synthetic": root, **(extra_paths or {})})
    ctx = TaskContext(preset=p, data=data, artifacts=arts, limit=limit, progress=False)
    if evaluator == "stub":
        lookup: dict[str, np.ndarray] = {}
        for split in ("test", "test_compositional"):
            ds = data.get("synthetic", split)
            for s in ds:
                for c in s.captions:
                    lookup[c.text] = ds.normalize(s.features)
        evaluator = StubEvaluator(lookup)
    if evaluator is not None:
        ctx._cache[("evaluator", "synthetic")] = evaluator
    return ctx


@pytest.fixture
def ctx(synth_root: Path, tmp_path: Path) -> TaskContext:
    return make_ctx(synth_root, tmp_path)


class FakeModel:
    """Configurable fake: `oracle` answers with targets; otherwise `fn(request)`."""

    name = "fake"
    capabilities = frozenset(Capability)

    def __init__(self, oracle: bool = False, motion=None, caption=None, pose=None, recon=None) -> None:
        self.oracle = oracle
        self._fns = {"motion": motion, "caption": caption, "pose": pose, "recon": recon}
        self.batches: list[int] = []

    def _answer(self, kind: str, requests: Sequence[Any]) -> list[Prediction]:
        self.batches.append(len(requests))
        fn = self._fns[kind]
        out = []
        for r in requests:
            if fn is not None:
                res = fn(r)
            else:  # the oracle: a caption request's target is its list of references
                res = r.target[0] if kind == "caption" else r.target
            out.append(res if isinstance(res, Prediction) else Prediction(res))
        return out

    def generate_motion(self, requests):
        return self._answer("motion", requests)

    def caption_motion(self, requests):
        return self._answer("caption", requests)

    def estimate_pose(self, requests):
        return self._answer("pose", requests)

    def reconstruct_motion(self, requests):
        return self._answer("recon", requests)


def view(model: FakeModel) -> ModelView:
    return ModelView(model)  # hides targets unless model.oracle
