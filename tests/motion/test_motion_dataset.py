"""HumanML3D/KIT directory loaders: item rules, spans, normalisation, hashing, errors."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from tests_motion_helpers import make_dataset  # pytest puts this test directory on sys.path
from hmvlm_bench.motion.dataset import (
    Caption,
    dataset_spec,
    load_dataset,
    parse_caption_line,
)


def test_parse_caption_line() -> None:
    cap = parse_caption_line("a man kicks.#a/DET man/NOUN kick/VERB#nan#nan\n")
    assert cap == Caption("a man kicks.", ("a/DET", "man/NOUN", "kick/VERB"), 0.0, 0.0)
    with pytest.raises(ValueError):
        parse_caption_line("no separators")


def test_items_spans_and_filters(tmp_path: Path) -> None:
    ds = load_dataset(make_dataset(tmp_path / "h"), "train")
    assert ds.spec.kind == "humanml3d" and ds.spec.fps == 20 and ds.spec.feature_dim == 263
    # 000002 (30 frames) is under 40: dropped; each clip gives a whole item + one 60-frame span
    assert ds.ids == ["000001", "000001#20-80", "M000001", "M000001#20-80"]
    assert ds.lengths().tolist() == [100, 60, 100, 60]
    whole, span = ds[0], ds[1]
    raw = np.load(tmp_path / "h" / "new_joint_vecs" / "000001.npy")
    np.testing.assert_array_equal(span.features, raw[20:80])
    assert [c.text for c in whole.captions] == ["a person walks"]
    assert span.captions[0].tokens == ("someone/PRON", "wave/VERB")
    assert load_dataset(tmp_path / "h", "train", mirrored=False).ids == ["000001", "000001#20-80"]
    assert load_dataset(tmp_path / "h", "train", limit=3).ids == ds.ids[:3]
    np.testing.assert_allclose(ds.normalize(whole.features), (whole.features - 0.5) / 2.0)
    np.testing.assert_allclose(ds.denormalize(ds.normalize(whole.features)), whole.features, atol=1e-6)
    assert ds.with_split("test").ids[:2] == ["000003", "000003#20-80"]


def test_kit_width_and_fps(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "k", dim=251, lengths={"00001": 60, "00002": 200})
    (root / "test.txt").write_text("00001\n00002\n")
    ds = load_dataset(f"kit={root}")
    assert ds.spec.kind == "kit" and ds.spec.fps == 12.5
    # 200 frames dropped (reference keeps T < 200); span 1..4 s -> frames 12..50 at 12.5 fps;
    # span 0.5..1 s -> 6..12, under 24 frames: dropped
    assert ds.ids == ["00001", "00001#12-50"]
    assert load_dataset(root).spec.kind == "kit"  # detected from Mean.npy width


def test_hash_is_content_only(tmp_path: Path) -> None:
    a = make_dataset(tmp_path / "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    h = load_dataset(a).dataset_hash()
    assert len(h) == 16 and load_dataset(b).dataset_hash() == h
    assert load_dataset(a, "train").dataset_hash() != h
    assert load_dataset(a).dataset_hash(all_splits=True) == load_dataset(b).dataset_hash(all_splits=True)
    feats = np.load(b / "new_joint_vecs" / "000003.npy")
    feats[5, 5] += 1.0
    np.save(b / "new_joint_vecs" / "000003.npy", feats)
    assert load_dataset(b).dataset_hash() != h


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(UserError, match="needs a path"):
        load_dataset("humanml3d")
    with pytest.raises(UserError, match="did you mean"):
        dataset_spec("humanml", tmp_path)
    root = make_dataset(tmp_path / "h")
    with pytest.raises(UserError, match="split file"):
        load_dataset(root, "val")
    with pytest.raises(UserError, match=r"expected \(251,\)"):
        load_dataset(f"kit={root}")
    bad = np.load(root / "new_joint_vecs" / "000003.npy")
    bad[3, 3] = np.nan
    np.save(root / "new_joint_vecs" / "000003.npy", bad)
    with pytest.raises(UserError, match="NaN"):
        load_dataset(root)[0]
    (root / "test.txt").write_text("000003\n999999\n")
    with pytest.raises(UserError, match="missing"):
        load_dataset(root)
    (root / "Std.npy").unlink()
    with pytest.raises(UserError, match="Std.npy"):
        load_dataset(root)
