"""Damaged cached assets and dataset files: a GloVe folder of the official evaluator
(vectors, vocabulary pickles) or a zero-frame motion / empty caption file under --data is
named in one line with exit 2; nothing is dropped silently and nothing is written."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmvlm_bench.errors import UserError
from hmvlm_bench.evaluators.guo_t2m import WordVectorizer
from tests.hostile.conftest import assert_one_error, invoke, snapshot
from tests.tasks.hml_fixture import glove_words, make_guo_evaluator, make_humanml3d

WORDS, DATA, IDX = "our_vab_words.pkl", "our_vab_data.npy", "our_vab_idx.pkl"


def _glove(root: Path) -> Path:
    g = root / "glove"
    g.mkdir(parents=True)
    words = glove_words()
    np.save(g / DATA, np.ones((len(words), 300), np.float32))
    (g / WORDS).write_bytes(pickle.dumps(words))
    (g / IDX).write_bytes(pickle.dumps({w: i for i, w in enumerate(words)}))
    return g


def _write(name: str, data: bytes):
    return lambda g: (g / name).write_bytes(data)


# case -> (damage, file named, needles)
GLOVE = {
    "pickle that calls os.system": (_write(WORDS, pickle.dumps(os.system)), WORDS, ["refusing to load posix.system"]),
    "pickle of a numpy array": (_write(IDX, pickle.dumps(np.zeros(3))), IDX, ["refusing to load numpy"]),
    "truncated words pickle": (lambda g: (g / WORDS).write_bytes((g / WORDS).read_bytes()[:20]), WORDS, ["cannot read"]),
    "empty idx pickle": (_write(IDX, b""), IDX, ["cannot read"]),
    "words pickle is text": (_write(WORDS, b"walk run jump\n"), WORDS, ["cannot read"]),
    "words not a list": (_write(WORDS, pickle.dumps("walk")), "glove", ["word list", "got str"]),
    "idx not a dict": (_write(IDX, pickle.dumps([1, 2])), "glove", ["word->index dict", "got list"]),
    "index out of range": (_write(IDX, pickle.dumps({w: 10 ** 6 for w in glove_words()})), IDX, ["has no row"]),
    "word missing from idx": (_write(IDX, pickle.dumps({})), IDX, ["has no row"]),
    "truncated vectors": (lambda g: (g / DATA).write_bytes((g / DATA).read_bytes()[:100]), DATA, ["cannot read GloVe vectors"]),
    "vectors not npy": (_write(DATA, b"not an array"), DATA, ["cannot read GloVe vectors"]),
    "vectors of objects": (lambda g: np.save(g / DATA, np.array([{"a": 1}], dtype=object), allow_pickle=True),
                           DATA, ["cannot read GloVe vectors"]),
    "1-d vectors": (lambda g: np.save(g / DATA, np.ones(5, np.float32)), DATA, ["2-d numeric"]),
}


@pytest.mark.parametrize("case", list(GLOVE))
def test_damaged_glove_folder_is_one_user_error(tmp_path, case):
    g = _glove(tmp_path)
    damage, named, needles = GLOVE[case]
    damage(g)
    with pytest.raises(UserError) as err:
        WordVectorizer.from_path(g)
    msg = str(err.value)
    assert str(g / named if named != "glove" else g) in msg and "\n" not in msg
    for n in needles:
        assert n in msg, msg


@pytest.mark.parametrize("text,needles", [
    (b"walk 1 2 3\nrun 1 2 x\n", ["line 2"]),
    (b"walk 1 2 3\nrun 1 2\n", ["different lengths"]),
    (b"walk \xe9 1 2\n", ["cannot read GloVe file"]),
])
def test_damaged_glove_text_file(tmp_path, text, needles):
    f = tmp_path / "glove.txt"
    f.write_bytes(text)
    with pytest.raises(UserError) as err:
        WordVectorizer.from_path(f)
    assert str(f) in str(err.value) and all(n in str(err.value) for n in needles)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from([WORDS, IDX, DATA]), blob=st.binary(max_size=200))
def test_any_bytes_in_a_glove_file_load_or_give_a_user_error(tmp_path_factory, which, blob):
    """No byte string in any of the three files escapes as anything but a UserError."""
    g = _glove(tmp_path_factory.mktemp("g"))
    (g / which).write_bytes(blob)
    try:
        WordVectorizer.from_path(g)
    except UserError as exc:
        assert "\n" not in str(exc)


# ------------------------------------------------------------------------- end to end
def _run(h: Path, e: Path, out: Path):
    return invoke(["run", "--preset", "tiny", "--tasks", "t2m", "--models", "ground-truth",
                   "--data", f"humanml3d={h}", "--evaluator", f"humanml3d={e}", "--dataset", "humanml3d",
                   "--no-progress", "-o", str(out)])


@pytest.fixture(scope="module")
def guo(tmp_path_factory) -> Path:
    return make_guo_evaluator(tmp_path_factory.mktemp("guo"))


def test_crafted_glove_pickle_in_a_run(tmp_path, guo):
    import shutil

    ev = tmp_path / "ev"
    shutil.copytree(guo, ev)
    (ev / "glove" / WORDS).write_bytes(pickle.dumps(os.system))
    out = tmp_path / "out"
    assert_one_error(_run(make_humanml3d(tmp_path / "h"), ev, out), str(ev / "glove" / WORDS),
                     "refusing to load posix.system")
    assert not out.exists(), snapshot(out)


DATASET = {
    "zero-frame motion": (lambda h: np.save(h / "new_joint_vecs" / "000002.npy", np.zeros((0, 263), np.float32)),
                          "new_joint_vecs/000002.npy", ["zero-length motion", "validate"]),
    "empty caption file": (lambda h: (h / "texts" / "000002.txt").write_text(""),
                           "texts/000002.txt", ["holds no captions", "validate"]),
    "blank caption lines": (lambda h: (h / "texts" / "000002.txt").write_text("\n  \n"),
                            "texts/000002.txt", ["holds no captions"]),
}


@pytest.mark.parametrize("case", list(DATASET))
def test_damaged_clip_is_refused_not_dropped(tmp_path, guo, case):
    h = make_humanml3d(tmp_path / "h")
    damage, rel, needles = DATASET[case]
    damage(h)
    out = tmp_path / "out"
    assert_one_error(_run(h, guo, out), str(h / rel), *needles)
    assert not out.exists(), snapshot(out)


def test_uncaptioned_datasets_keep_an_empty_caption_file_as_uncaptioned(tmp_path):
    """Where captions are optional (imported BVH), an empty file reads like a missing one."""
    from hmvlm_bench.motion.dataset import MotionDataset, dataset_spec

    h = make_humanml3d(tmp_path / "h")
    (h / "texts" / "000002.txt").write_text("")
    ds = MotionDataset(dataset_spec("humanml3d", h), "test", require_captions=False)
    assert "000002" in ds.ids
    with pytest.raises(UserError, match="holds no captions"):
        MotionDataset(dataset_spec("humanml3d", h), "test")
