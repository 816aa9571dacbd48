"""Contrastive evaluator: config validation, training on a toy HumanML3D-layout set,
save/load round trip with sha256 check."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.evaluators import contrastive as C
from hmvlm_bench.evaluators.base import Evaluator

CLASSES = ["a person walks forward", "a person jumps up and down", "a person waves the right hand",
           "a person sits down on a chair"]


def _toy_dataset(root, n_train=96, n_test=64, seed=0):
    """Four motion classes: class k drives a block of feature dims with a sine of
    frequency k+1, plus noise. Captions name the class."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True)
    (root / "texts").mkdir()
    ids = {"train": [], "test": []}
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            k = i % 4
            T = int(rng.integers(40, 120))
            t = np.arange(T)[:, None] / 20.0
            x = 0.3 * rng.normal(size=(T, 263))
            x[:, 60 * k : 60 * k + 40] += np.sin(2 * np.pi * (k + 1) * t + rng.uniform(0, 6))
            cid = f"{split}{i:04d}"
            np.save(root / "new_joint_vecs" / f"{cid}.npy", x.astype(np.float32))
            (root / "texts" / f"{cid}.txt").write_text(f"{CLASSES[k]}#a/DET person/NOUN#0.0#0.0\n")
            ids[split].append(cid)
    for split, lst in ids.items():
        (root / f"{split}.txt").write_text("\n".join(lst) + "\n")
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    (root / "synthetic.json").write_text("{}")
    return root


def test_presets_and_validation():
    tiny = C.evaluator_config_for_preset("tiny")
    assert tiny.preset == "tiny" and tiny.embed_dim == 512
    assert C.evaluator_config_for_preset("mini", epochs=3).epochs == 3
    with pytest.raises(UserError, match="did you mean"):
        C.evaluator_config_for_preset("minni")
    with pytest.raises(UserError):
        C.ContrastiveConfig(batch_size=1)
    with pytest.raises(UserError):
        C.ContrastiveConfig.from_dict({"nope": 1})
    assert C.ContrastiveConfig.from_dict(tiny.to_dict()) == tiny


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = _toy_dataset(tmp_path_factory.mktemp("toy") / "data")
    out = tmp_path_factory.mktemp("ev") / "evaluator"
    cfg = C.evaluator_config_for_preset("tiny", epochs=8, lr=3e-3, max_train_items=None)
    C.train_contrastive_evaluator(root, out, cfg, progress=False)
    return root, out


@pytest.mark.slow
def test_training_learns_and_writes_files(trained):
    _, out = trained
    meta = json.loads((out / C.CONFIG_FILE).read_text())
    assert meta["format_version"] == 1 and len(meta["sha256"]) == 64
    losses = meta["training"]["losses"]
    assert losses[-1] < losses[0]
    val = meta["validation"]
    assert val["n"] == 64
    # four distinguishable classes of ~8 per batch of 32: real R@3 well above 3/32
    assert val["real_R@3"] > val["random_R@3"] + 0.1


@pytest.mark.slow
def test_load_round_trip_and_interface(trained):
    root, out = trained
    ev = C.load_evaluator(out)
    assert isinstance(ev, Evaluator) and ev.fingerprint == json.loads((out / C.CONFIG_FILE).read_text())["sha256"]
    rng = np.random.default_rng(0)
    motions = [rng.normal(size=(n, 263)).astype(np.float32) for n in (50, 80)]
    m = ev.encode_motion(motions, [50, 80])
    assert m.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), ev.config.output_radius, rtol=1e-5)
    # order and batch independence
    np.testing.assert_allclose(ev.encode_motion(motions[::-1], [80, 50])[::-1], m, atol=1e-5)
    np.testing.assert_allclose(ev.encode_motion(motions[:1], [50])[0], m[0], atol=1e-5)
    t = ev.encode_text(CLASSES)
    assert t.shape == (4, 512)
    np.testing.assert_allclose(ev.encode_text(CLASSES[:1])[0], t[0], atol=1e-5)


@pytest.mark.slow
def test_tampered_weights_are_refused(trained, tmp_path):
    _, out = trained
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    w = copy / C.WEIGHTS_FILE
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(UserError, match="sha256"):
        C.load_evaluator(copy)
    with pytest.raises(UserError):
        C.load_evaluator(tmp_path / "nothing")


@pytest.mark.slow
def test_cli_trains_into_out_dir(tmp_path):
    from hmvlm_bench.evaluators.factory import train_evaluator_cmd

    root = _toy_dataset(tmp_path / "data", n_train=32, n_test=32)
    out = train_evaluator_cmd(preset="tiny", data=str(root), out=tmp_path / "ev")
    assert C.load_evaluator(out).name == "contrastive-tiny"
