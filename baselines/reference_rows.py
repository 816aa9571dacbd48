"""The two rows every benchmark table needs: the ceiling and the floor.

`ground-truth` answers with the dataset's own data (the "Real motion" row of HumanML3D
tables); `random` answers with random *training* data (what a model that ignores its
input would score). Both work for every motion task and need no training.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from hmvlm_bench.contracts import (BenchModel, Capability, CaptionRequest, MotionRequest,
                                   PoseRequest, Prediction, TokenizeRequest)
from hmvlm_bench.errors import UserError

_MOTION_CAPS = frozenset({Capability.GENERATE_MOTION, Capability.CAPTION_MOTION,
                          Capability.ESTIMATE_POSE, Capability.TOKENIZE_MOTION})


class GroundTruthModel(BenchModel):
    """Oracle: returns each request's ground truth (the 'Real' ceiling row)."""

    name = "ground-truth"
    capabilities = _MOTION_CAPS
    oracle = True  # the runner passes targets only to oracles
    arguments: dict = {}  # reads no model args

    @staticmethod
    def _targets(requests: Sequence[Any]) -> list[Any]:
        missing = [r.sample_id for r in requests if r.target is None]
        if missing:
            # a task bug (it built requests without targets): that pair fails, not the run
            raise RuntimeError(f"ground-truth needs targets; task gave none for {missing[:3]}")
        return [r.target for r in requests]

    def generate_motion(self, requests: Sequence[MotionRequest]) -> list[Prediction]:
        return [Prediction(np.asarray(t, dtype=np.float32)) for t in self._targets(requests)]

    def caption_motion(self, requests: Sequence[CaptionRequest]) -> list[Prediction]:
        # a reference caption; tasks decide whether it is scored against the others only
        return [Prediction(t[0] if isinstance(t, (list, tuple)) else str(t))
                for t in self._targets(requests)]

    def estimate_pose(self, requests: Sequence[PoseRequest]) -> list[Prediction]:
        return [Prediction(np.asarray(t, dtype=np.float32)) for t in self._targets(requests)]

    def reconstruct_motion(self, requests: Sequence[TokenizeRequest]) -> list[Prediction]:
        return [Prediction(np.asarray(r.features, dtype=np.float32)) for r in requests]


class RandomModel(BenchModel):
    """Floor: random training motions, captions and poses, chosen by each request's seed."""

    name = "random"
    capabilities = _MOTION_CAPS
    arguments: dict = {}  # reads no model args

    @classmethod
    def spec(cls, ctx: Any) -> dict[str, Any]:
        """It answers with training data, so the train split's content is part of it (a
        user dataset whose train split changed must not be served from cache)."""
        from pathlib import Path

        train: dict[str, str] = {}
        for name in sorted({ctx.preset.dataset or "synthetic", *ctx.data.paths}):
            if name in ctx.data.paths and not Path(ctx.data.paths[name]).is_dir():
                continue  # an evaluation file (e.g. h36m=FILE.npz), not a motion dataset
            try:
                train[name] = ctx.data.fingerprint(name, "train")
            except UserError:  # no train split: this row cannot use the dataset anyway
                train[name] = "unavailable"
        return {**super().spec(ctx), "train": train}

    def _train(self, dataset: str):
        return self.ctx.data.get(dataset, "train")

    def _pick(self, dataset: str, seed: int) -> tuple[Any, np.random.Generator]:
        train = self._train(dataset)
        if len(train) == 0:
            raise UserError(f"random baseline: dataset '{dataset}' has an empty train split")
        rng = np.random.default_rng(seed)
        return train[int(rng.integers(len(train)))], rng

    def generate_motion(self, requests: Sequence[MotionRequest]) -> list[Prediction]:
        out = []
        for r in requests:
            sample, _ = self._pick(r.dataset, r.seed)
            out.append(Prediction(sample.features[: r.length].copy(), {"source": sample.id}))
        return out

    def caption_motion(self, requests: Sequence[CaptionRequest]) -> list[Prediction]:
        out = []
        for r in requests:
            sample, rng = self._pick(r.dataset, r.seed)
            cap = sample.captions[int(rng.integers(len(sample.captions)))].text
            out.append(Prediction(cap, {"source": sample.id}))
        return out

    def estimate_pose(self, requests: Sequence[PoseRequest]) -> list[Prediction]:
        from hmvlm_bench.motion.features import features_to_joints

        out = []
        for r in requests:
            sample, rng = self._pick(r.dataset, r.seed)
            joints = features_to_joints(sample.features)
            pose = joints[int(rng.integers(len(joints)))]
            out.append(Prediction((pose - pose[0]).astype(np.float32), {"source": sample.id}))
        return out

    def reconstruct_motion(self, requests: Sequence[TokenizeRequest]) -> list[Prediction]:
        out = []
        for r in requests:
            sample, rng = self._pick(r.dataset, r.seed)
            train = self._train(r.dataset)
            n = len(r.features)
            feats = train.normalize(sample.features)
            while len(feats) < n:  # loop a short clip to the requested length
                feats = np.concatenate([feats, feats])
            start = int(rng.integers(len(feats) - n + 1))
            out.append(Prediction(feats[start:start + n].astype(np.float32), {"source": sample.id}))
        return out
