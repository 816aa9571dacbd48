"""Synthetic default dataset: determinism, layout, compositional split, learnable actions."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.motion import skeleton as S
from hmvlm_bench.motion import synthetic as syn
from hmvlm_bench.motion.dataset import load_dataset
from hmvlm_bench.motion.features import bone_lengths


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return syn.synthesize(tmp_path_factory.mktemp("syn") / "a", size=40, seed=3)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_byte_identical_for_same_seed(small: Path, tmp_path: Path) -> None:
    again = syn.synthesize(tmp_path / "b", size=40, seed=3)
    assert _files(small) == _files(again)
    other = syn.synthesize(tmp_path / "c", size=40, seed=4)
    assert _files(other)["new_joint_vecs/000000.npy"] != _files(small)["new_joint_vecs/000000.npy"]


def test_layout_manifest_and_splits(small: Path) -> None:
    manifest = json.loads((small / "synthetic.json").read_text())
    assert manifest["version"] == syn.GENERATOR_VERSION and manifest["size"] == 40
    labels = syn.load_labels(small)
    seen = []
    for split, count in manifest["counts"].items():
        ds = load_dataset(small, split)
        assert ds.spec.kind == "synthetic" and len(ds) == count
        for sample in ds:
            assert 40 <= sample.length <= 196 and sample.features.shape[1] == 263
            assert len(sample.captions) == 3 and len({c.text for c in sample.captions}) == 3
            assert labels[sample.id].held_out() == (split == "test_compositional")
            seen.append(sample.id)
    assert sorted(seen) == [f"{i:06d}" for i in range(40)]
    joints = np.load(small / "new_joints" / "000007.npy")
    np.testing.assert_allclose(bone_lengths(joints)[:, 1:], np.broadcast_to(S.BONE_LENGTHS[1:], (len(joints), 21)), atol=1e-4)


def test_captions_and_tokens() -> None:
    rng = np.random.default_rng(0)
    lab = syn.MotionLabel("walk_forward", "rest", "wave", "upright", "straight", "left", 1.0, 1.0, 60)
    caps = syn.make_captions(lab, rng)
    assert len(caps) == 3 and all("wav" in c and "right" in c for c in caps)
    assert syn.pos_tokens("a man waves the right hand while walking forward.") == (
        "a/DET man/NOUN wave/VERB the/DET right/ADJ hand/NOUN while/SCONJ walk/VERB forward/ADV")
    # every phrase of every table is covered by the POS lexicon
    for table in (syn._LEG_PHRASES, syn._ARM_PHRASES, syn._TORSO_PHRASES, syn._PATH_PHRASES):
        for pairs in table.values():
            for fin, ger in pairs:
                for side in ("left", "right", "both"):
                    fill = syn._arm_fill(side)
                    syn.pos_tokens(f"{fin} {ger}".format(side=side, **fill))


def test_held_out_pairs() -> None:
    lab = syn.MotionLabel("run", "wave", "rest", "upright", "straight", "left", 1.0, 1.0, 60)
    assert lab.held_out()
    assert not syn.MotionLabel("run", "raise", "rest", "upright", "straight", "left", 1.0, 1.0, 60).held_out()


def test_actions_are_separable_in_features() -> None:
    """Nearest-centroid on time-pooled features tells leg actions and arm actions apart."""
    rng = np.random.default_rng(0)
    from hmvlm_bench.motion.features import joints_to_features

    def pooled(lab: syn.MotionLabel, seed: int, joints: tuple[int, ...]) -> np.ndarray:
        f = joints_to_features(syn.motion_for_label(lab, seed))
        ric = f[:, S.RIC].reshape(len(f), 21, 3)[:, [j - 1 for j in joints]].reshape(len(f), -1)
        vel = f[:, S.LOCAL_VEL].reshape(len(f), 22, 3)[:, list(joints)].reshape(len(f), -1)
        body = np.concatenate([ric, vel, f[:, S.ROOT_LIN_VEL], f[:, S.ROOT_HEIGHT]], axis=1)
        return np.concatenate([body.mean(0), body.std(0)])

    legs = S.BODY_PARTS["left_leg"] + S.BODY_PARTS["right_leg"]
    for field, values, joints in (("legs", syn.LEG_ACTIONS, legs),
                                  ("arm_right", syn.ARM_ACTIONS, S.BODY_PARTS["right_arm"])):
        x, y = [], []
        for k, v in enumerate(values):
            for rep in range(4):
                base = syn.sample_label(rng)
                lab = syn.MotionLabel(**{**base.__dict__, field: v, "frames": 80})
                x.append(pooled(lab, rep, joints))
                y.append(k)
        x_arr, y_arr = np.array(x), np.array(y)
        hits = 0
        for i in range(len(x_arr)):  # leave-one-out nearest centroid
            mask = np.arange(len(x_arr)) != i
            cents = np.stack([x_arr[mask & (y_arr == k)].mean(0) for k in range(len(values))])
            hits += int(np.argmin(((cents - x_arr[i]) ** 2).sum(1)) == y_arr[i])
        assert hits / len(x_arr) >= 0.75, (field, hits / len(x_arr))
