"""How much can the caption tell about the first motion step at all? (issue 14 diagnostic)

The synthetic data knows each motion's action labels (`labels.json`). For every train/val
motion, encode the first step of a crop with a checkpoint's body-part tokenizer; then per
stream compare, on val, the cross-entropy of a count model over the codes (add-k smoothed
towards the marginal) that knows nothing, the leg action, or the whole label. The gap is an
estimate of what a perfect reader of the caption could gain on the first step, to compare
with `diagnose_text_conditioning.py` (what the LLM gains). Crops start at frame 0 or at a
random frame (as in training); also the second step given the first (the motion prior).

    python scripts/diagnose_label_ceiling.py CHECKPOINT_DIR
"""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch


def _first_steps(net: Any, root: Path, split: str, labels: dict, random_start: bool,
                 rng: np.random.Generator) -> list[tuple[Any, np.ndarray, np.ndarray]]:
    from hmvlm_bench.motion.dataset import load_dataset
    from reference_model.hmvlm.instruct_data import normalise

    l = net.motion_tok.downsample
    ds = load_dataset(root, split=split, limit=None)
    out = []
    for i in range(len(ds)):
        it = ds[i]
        start = int(rng.integers(max(1, it.length - 10 * l + 1))) if random_start else 0
        x = normalise(np.asarray(it.features[start:start + 8 * l], np.float32), net.mean, net.std)
        with torch.no_grad():
            cd = net.motion_tok.encode(torch.from_numpy(x)[None]).numpy()[0]
        out.append((labels[it.id.split("#")[0]], cd[0], cd[1]))
    return out


def _ce(train: list, val: list, key: Callable[[Any], Any], stream: int, k: int, target: int = 1) -> float:
    """Val cross-entropy (nats) of code `target` (1 = first step, 2 = second) under counts
    conditioned on `key(label, first codes)`, smoothed towards the train marginal."""
    marg = np.bincount([t[target][stream] for t in train], minlength=k) + 0.5
    pm = marg / marg.sum()
    cond: dict[Any, np.ndarray] = defaultdict(lambda: np.zeros(k))
    for t in train:
        cond[key(t)][t[target][stream]] += 1
    total = 0.0
    for t in val:
        c = cond[key(t)] + 0.2 * k * pm  # add-k towards the marginal (k' = 0.2 K)
        total -= float(np.log((c / c.sum())[t[target][stream]]))
    return total / len(val)


def main(ckpt: str) -> None:
    from hmvlm_bench.motion.synthetic import load_labels
    from reference_model.hmvlm.network import load_network
    from reference_model.hmvlm.training import make_store, resolve_data

    net = load_network(Path(ckpt)).eval()
    root, _, _ = resolve_data("mini", None, make_store())
    labels = load_labels(root)
    s, k = net.motion.n_streams, net.motion.size
    print(f"{ckpt}: {s} streams x {k} codes (uniform {np.log(k):.2f} nats); val cross-entropy per stream, mean over streams")
    for random_start in (True, False):
        rng = np.random.default_rng(0)
        train = _first_steps(net, root, "train", labels, random_start, rng)
        val = _first_steps(net, root, "val", labels, random_start, rng)
        keys = {"nothing": lambda t: 0, "leg action": lambda t: t[0].legs,
                "whole label": lambda t: (t[0].legs, t[0].arm_left, t[0].arm_right, t[0].torso, t[0].path)}
        where = "random start" if random_start else "frame 0"
        for name, key in keys.items():
            ces = [_ce(train, val, key, st, k) for st in range(s)]
            print(f"  first step, {where:12s} | {name:11s}: {np.mean(ces):.2f}  ({' '.join(f'{c:.2f}' for c in ces)})")
        ces = [_ce(train, val, lambda t, st=st: int(t[1][st]), st, k, target=2) for st in range(s)]
        print(f"  second step given the first, {where}: {np.mean(ces):.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
