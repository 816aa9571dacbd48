"""A tiny HumanML3D-layout dataset and a Guo et al.-layout evaluator folder with random
weights (official state-dict keys, GloVe pickles), built on the fly for protocol tests."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

# (caption, tokens) per clip; clip i has len(CAPTIONS[i]) captions (1, 2, 3 or 4)
CAPTIONS: list[list[tuple[str, str]]] = [
    [("A person walks forward.", "a/DET person/NOUN walk/VERB forward/ADV")],
    [("someone jumps up high", "someone/PRON jump/VERB up/ADV high/ADV"),
     ("a man jumps", "a/DET man/NOUN jump/VERB")],
    [("a person waves the left hand", "a/DET person/NOUN wave/VERB the/DET left/ADJ hand/NOUN"),
     ("someone waves", "someone/PRON wave/VERB"),
     ("the man raises his arm", "the/DET man/NOUN raise/VERB his/PRON arm/NOUN")],
    [("a man runs in a circle", "a/DET man/NOUN run/VERB in/ADP a/DET circle/NOUN"),
     ("person jogs around", "person/NOUN jog/VERB around/ADV"),
     ("someone runs", "someone/PRON run/VERB"),
     ("a fourth caption that is never a reference", "a/DET fourth/ADJ caption/NOUN that/PRON be/AUX never/ADV "
      "a/DET reference/NOUN")],
]
LENGTHS = [43, 58, 61, 199]


def make_humanml3d(root: Path, n_clips: int = 12, seed: int = 0) -> Path:
    """Clips 000000.. with lengths and captions cycling through LENGTHS / CAPTIONS."""
    rng = np.random.default_rng(seed)
    (root / "new_joint_vecs").mkdir(parents=True, exist_ok=True)
    (root / "texts").mkdir(exist_ok=True)
    ids = []
    for i in range(n_clips):
        cid = f"{i:06d}"
        n = LENGTHS[i % len(LENGTHS)] - (i // len(LENGTHS))
        feats = rng.normal(size=(n, 263)).astype(np.float32) * 0.5
        feats[:, 3] += 0.9 + 0.05 * i  # root height: clips differ in their mean
        np.save(root / "new_joint_vecs" / f"{cid}.npy", feats)
        lines = [f"{c}#{t}#0.0#0.0" for c, t in CAPTIONS[i % len(CAPTIONS)]]
        (root / "texts" / f"{cid}.txt").write_text("\n".join(lines) + "\n")
        ids.append(cid)
    (root / "test.txt").write_text("\n".join(ids) + "\n")
    (root / "train.txt").write_text("\n".join(ids) + "\n")
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    return root


def glove_words() -> list[str]:
    words = {"sos", "eos", "unk"}
    for caps in CAPTIONS:
        for _, toks in caps:
            words.update(t.split("/")[0] for t in toks.split())
    return sorted(words)


def make_guo_evaluator(root: Path, seed: int = 0, length_estimator: bool = True) -> Path:
    """`root/t2m/text_mot_match/model/finest.tar` (+ `length_est_bigru/model/latest.tar`)
    and `root/glove/our_vab_{data.npy,words.pkl,idx.pkl}`, randomly initialised."""
    import torch

    from hmvlm_bench.evaluators import guo_t2m as G

    torch.manual_seed(seed)
    cfg = G.GuoEvaluatorConfig()
    mods = G.build_modules(cfg)
    model_dir = root / "t2m" / "text_mot_match" / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    torch.save({k: m.state_dict() for k, m in zip(G.checkpoint_state_keys(), mods)} | {"epoch": 1},
               model_dir / "finest.tar")
    if length_estimator:
        est_dir = root / "t2m" / "length_est_bigru" / "model"
        est_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"estimator": G.build_length_estimator(cfg).state_dict()}, est_dir / "latest.tar")
    glove = root / "glove"
    glove.mkdir(exist_ok=True)
    words = glove_words()
    np.save(glove / "our_vab_data.npy",
            np.random.default_rng(seed).normal(size=(len(words), 300)).astype(np.float32))
    (glove / "our_vab_words.pkl").write_bytes(pickle.dumps(words))
    (glove / "our_vab_idx.pkl").write_bytes(pickle.dumps({w: i for i, w in enumerate(words)}))
    return root
