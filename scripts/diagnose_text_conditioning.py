"""Does a trained HMVLM read the caption when it starts a motion? (issue 14 diagnostic)

For N val motions: the cross-entropy of the first motion step's tokens (one per body
part) after the plain-text t2m prompt with the motion's own caption, against the same
with another motion's caption (captions rolled by one). If the model used the text, the
own-caption loss would be clearly lower; equal losses mean the first step is predicted
from the motion prior alone. Also the same for the whole answer (first 8 steps).

    python scripts/diagnose_text_conditioning.py CHECKPOINT_DIR [N]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def main(ckpt: str, n: int = 64) -> None:
    from hmvlm_bench.motion.dataset import load_dataset
    from reference_model.hmvlm import templates as T
    from reference_model.hmvlm.instruct_data import normalise
    from reference_model.hmvlm.network import load_network
    from reference_model.hmvlm.training import make_store, resolve_data
    from reference_model.tokenizer.tokens import codes_to_text

    net = load_network(Path(ckpt)).eval()
    root, _, _ = resolve_data("mini", None, make_store())
    ds = load_dataset(root, split="val", limit=None)
    items = [ds[i] for i in range(min(n, len(ds))) if ds[i].captions]
    l, steps = net.motion_tok.downsample, 8
    codes = []
    for it in items:
        x = normalise(np.asarray(it.features[: steps * l], np.float32), net.mean, net.std)
        with torch.no_grad():
            codes.append(net.motion_tok.encode(torch.from_numpy(x)[None]).numpy()[0])
    caps = [it.captions[0].text for it in items]
    s = net.motion.n_streams

    def losses(captions: list[str]) -> tuple[float, float]:
        first, whole = [], []
        for cap, cd in zip(captions, codes):
            user = T.t2m_prompt(cap, "text", 0)
            p = net.tokenizer(T.chat_prompt(net.tokenizer, user), add_special_tokens=False)["input_ids"]
            a = net.tokenizer(codes_to_text(cd, "motion"), add_special_tokens=False)["input_ids"]
            ids = torch.tensor([p + a])
            with torch.no_grad(), net.routed(net.gate_weights([user])):
                logits = net.llm(input_ids=ids).logits[0, :-1].float()
            tgt = ids[0, 1:]
            start = len(p)  # a[0] is the motion start marker; a[1: 1 + s] the first step
            ce = F.cross_entropy(logits[start - 1:], tgt[start - 1:], reduction="none")
            first.append(float(ce[1:1 + s].mean()))
            whole.append(float(ce[1:].mean()))
        return float(np.mean(first)), float(np.mean(whole))

    own = losses(caps)
    other = losses(caps[1:] + caps[:1])
    print(f"{ckpt}: {len(items)} val motions, first {steps} steps")
    print(f"  first-step CE  own caption {own[0]:.3f}  other caption {other[0]:.3f}  (uniform over a stream: {np.log(net.motion.size):.3f})")
    print(f"  answer CE      own caption {own[1]:.3f}  other caption {other[1]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 64)
