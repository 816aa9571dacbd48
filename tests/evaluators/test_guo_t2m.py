"""Guo et al. evaluator port: checkpoint layout, GloVe loading, length handling."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from hmvlm_bench.errors import UserError
from hmvlm_bench.evaluators import guo_t2m as G

_GRU = [f"gru.{w}_{k}_l0{s}" for w in ("weight", "bias") for k in ("ih", "hh") for s in ("", "_reverse")]
_HEAD = [f"output_net.{i}.{p}" for i in (0, 1, 3) for p in ("weight", "bias")]
# Key sets of networks/modules.py MovementConvEncoder / TextEncoderBiGRUCo / MotionEncoderBiGRUCo.
REFERENCE_KEYS = {
    "movement_encoder": {"main.0.weight", "main.0.bias", "main.3.weight", "main.3.bias", "out_net.weight", "out_net.bias"},
    "text_encoder": {"hidden", "pos_emb.weight", "pos_emb.bias", "input_emb.weight", "input_emb.bias", *_GRU, *_HEAD},
    "motion_encoder": {"hidden", "input_emb.weight", "input_emb.bias", *_GRU, *_HEAD},
}
WORDS = ["sos", "eos", "unk", "a", "man", "walk", "forward", "person", "jump"]


@pytest.fixture(scope="module")
def fake_assets(tmp_path_factory):
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("guo")
    cfg = G.GuoEvaluatorConfig()
    mods = G.build_modules(cfg)
    state = {k: m.state_dict() for k, m in zip(G.checkpoint_state_keys(), mods)}
    state["epoch"] = 7
    ckpt = root / "finest.tar"
    torch.save(state, ckpt)
    glove = root / "glove"
    glove.mkdir()
    rng = np.random.default_rng(0)
    np.save(glove / "our_vab_data.npy", rng.normal(size=(len(WORDS), 300)).astype(np.float32))
    (glove / "our_vab_words.pkl").write_bytes(pickle.dumps(WORDS))
    (glove / "our_vab_idx.pkl").write_bytes(pickle.dumps({w: i for i, w in enumerate(WORDS)}))
    return ckpt, glove, state


def test_state_dict_keys_match_reference(fake_assets):
    _, _, state = fake_assets
    for key, expected in REFERENCE_KEYS.items():
        assert set(state[key]) == expected
    assert state["movement_encoder"]["main.0.weight"].shape == (512, 259, 4)
    assert state["motion_encoder"]["input_emb.weight"].shape == (1024, 512)
    assert state["text_encoder"]["pos_emb.weight"].shape == (300, 15)
    kit = G.build_modules(G.GuoEvaluatorConfig.for_dataset("kit"))
    assert kit[0].state_dict()["main.0.weight"].shape == (512, 247, 4)


def test_glove_loader_and_pos(fake_assets):
    _, glove, _ = fake_assets
    vec = G.WordVectorizer.from_path(glove)
    w, p = vec["walk/VERB"]
    assert p.argmax() == G.POS_ENUMERATOR["Act_VIP"]  # VIP list overrides the tag
    w2, p2 = vec["man/NOUN"]
    assert p2.argmax() == G.POS_ENUMERATOR["NOUN"]
    unk, p3 = vec["zebra/NOUN"]
    np.testing.assert_array_equal(unk, vec.word2vec["unk"])
    assert p3.argmax() == G.POS_ENUMERATOR["OTHER"]
    words, pos, n = G.encode_tokens(["a/DET", "man/NOUN", "walk/VERB"], vec, max_text_len=20)
    assert words.shape == (22, 300) and pos.shape == (22, 15) and n == 5
    long = G.encode_tokens(["man/NOUN"] * 25, vec, max_text_len=20)
    assert long[0].shape == (22, 300) and long[2] == 22


def test_glove_text_file(tmp_path):
    f = tmp_path / "g.txt"
    f.write_text("man 1 2 3\nwalk 4 5 6\n")
    vec = G.WordVectorizer.from_path(f)
    np.testing.assert_array_equal(vec["man/NOUN"][0], [1, 2, 3])
    np.testing.assert_array_equal(vec["sky/NOUN"][0], [0, 0, 0])  # no 'unk' row: zeros


def test_restricted_unpickler_refuses_globals(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps([Evil()]))
    with pytest.raises(pickle.UnpicklingError):
        G.safe_load_pickle(bad)
    ok = tmp_path / "ok.pkl"
    ok.write_bytes(pickle.dumps({"a": 1}))
    assert G.safe_load_pickle(ok) == {"a": 1}


def test_load_and_encode_preserves_order(fake_assets):
    ckpt, glove, _ = fake_assets
    ev = G.GuoT2MEvaluator(ckpt, glove, "t2m")
    assert len(ev.fingerprint) == 64 and ev.dim == 512
    rng = np.random.default_rng(1)
    motions = [rng.normal(size=(n, 263)).astype(np.float32) for n in (40, 64, 52)]
    lens = [40, 64, 52]
    e = ev.encode_motion(motions, lens)
    e_rev = ev.encode_motion(motions[::-1], lens[::-1])
    np.testing.assert_allclose(e, e_rev[::-1], atol=1e-5)
    toks = [["a/DET", "man/NOUN", "walk/VERB"], ["person/NOUN", "jump/VERB", "forward/ADV", "a/DET", "man/NOUN"]]
    t = ev.encode_text(["x", "y"], toks)
    t_rev = ev.encode_text(["y", "x"], toks[::-1])
    assert t.shape == (2, 512)
    np.testing.assert_allclose(t, t_rev[::-1], atol=1e-5)
    # a caption without tokens (a generated one) is POS-tagged as MotionGPT does
    tagged = ev.encode_text(["A man walks forward."])
    np.testing.assert_allclose(tagged, ev.encode_text(["?"], [["A/DET", "man/NOUN", "walk/VERB", "forward/ADV"]]),
                               atol=1e-6)
    with pytest.raises(UserError, match="token lists"):
        ev.encode_text(["x", "y"], [["a/DET"]])


def test_motion_length_divided_once_hand_checked(fake_assets):
    """40 frames -> the two stride-2 convs give 10 latent steps; the GRU must read all 10
    (reference: m_lens // 4), not 40 // 16 = 2 (MotionGPT's double division)."""
    ckpt, glove, _ = fake_assets
    ev = G.GuoT2MEvaluator(ckpt, glove, "t2m")
    x = np.random.default_rng(2).normal(size=(40, 263)).astype(np.float32)
    got = ev.encode_motion([x], [40])[0]

    def by_hand(steps: int) -> np.ndarray:
        xp = np.zeros((196, 263), np.float32)  # the reference pads to 196 frames with zeros
        xp[:40] = x
        with torch.no_grad():
            mov = ev.movement(torch.from_numpy(xp)[None, :, :-4])
            assert mov.shape[1] == 49
            gru_in = ev.motion.input_emb(mov[:, :steps])
            _, last = ev.motion.gru(gru_in, ev.motion.hidden)
            return ev.motion.output_net(torch.cat([last[0], last[1]], -1))[0].double().numpy()

    np.testing.assert_allclose(got, by_hand(10), atol=1e-5)
    assert np.abs(got - by_hand(2)).max() > 1e-3
    # padding beyond the length never leaks in
    padded = np.vstack([x, np.full((20, 263), 9.0, np.float32)])
    np.testing.assert_allclose(ev.encode_motion([padded], [40])[0], got, atol=1e-5)
    # nor does the batch: alone or next to a longer motion, same embedding
    other = np.random.default_rng(3).normal(size=(190, 263)).astype(np.float32)
    np.testing.assert_allclose(ev.encode_motion([other, x], [190, 40])[1], got, atol=1e-5)


def test_bad_checkpoint_is_user_error(tmp_path, fake_assets):
    _, glove, state = fake_assets
    with pytest.raises(UserError):
        G.GuoT2MEvaluator(tmp_path / "missing.tar", glove)
    bad = tmp_path / "bad.tar"
    torch.save({"movement_encoder": state["movement_encoder"]}, bad)
    with pytest.raises(UserError, match="text_encoder"):
        G.GuoT2MEvaluator(bad, glove)
    with pytest.raises(UserError):
        G.GuoT2MEvaluator(fake_assets[0], glove, dataset="kit")  # 263-d weights vs 251-d config
