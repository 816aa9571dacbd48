"""Learning curve of instruction tuning: text-to-motion R@3 on held-out motions during training.

Every `val_every` steps the network generates motions for `val_items` motions of the *val*
split (their first caption, ground-truth length, the config's sampling top-k, fixed seeds)
and the dataset's evaluator ranks each caption's generated motion among the batch's
motions (R-precision over batches of 32, as the t2m task; one batch when val_items = 32).
The same items and seeds at every point, so the curve moves only with the weights.

Recorded in `train_log.json` as `curve: [{step, loss, val_r3, val_mm_dist, seconds}]` so
anyone can see where a recipe saturates.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

R_BATCH = 32  # Guo et al.'s R-precision batch


@dataclass
class ValSet:
    captions: list[str]
    motions: list[np.ndarray]  # raw (T, D) features
    lengths: list[int]
    text_emb: np.ndarray
    real_emb: np.ndarray


def load_val_set(root: Path, evaluator: Any, n: int) -> ValSet:
    """The first `n` val motions (sorted ids), first caption each, embedded once."""
    from hmvlm_bench.motion.dataset import load_dataset

    ds = load_dataset(root, split="val", limit=None)
    items = [ds[i] for i in range(min(n, len(ds)))]
    items = [it for it in items if it.captions]
    caps = [it.captions[0].text for it in items]
    motions = [np.asarray(it.features, np.float32) for it in items]
    lengths = [int(it.length) for it in items]
    return ValSet(caps, motions, lengths, evaluator.encode_text(caps), evaluator.encode_motion(motions, lengths))


def val_point(net: Any, val: ValSet, evaluator: Any, batch_size: int = 16, seed: int = 0,
              top_k: int | None = None, cfg_scale: float = 1.0) -> dict[str, float]:
    """Generate for every val caption and score R@3 / MM-Dist against the captions
    (`top_k` None = the config's; `cfg_scale`: guidance, as `generate_motions`)."""
    import torch

    from hmvlm_bench.contracts import MotionRequest
    from hmvlm_bench.metrics.motion import matching_distance, r_precision
    from reference_model.hmvlm.model import generate_motions

    was_training = net.llm.training
    net.llm.eval()
    t0 = time.perf_counter()
    try:
        reqs = [MotionRequest(sample_id=f"val{i}", dataset="val", text=c, length=n, seed=seed + i)
                for i, (c, n) in enumerate(zip(val.captions, val.lengths))]
        with torch.no_grad():
            preds = generate_motions(net, reqs, top_k=top_k, batch_size=batch_size, cfg_scale=cfg_scale)
    finally:
        if was_training:
            net.llm.train()
    gen = [np.asarray(p.value, np.float32) for p in preds]
    emb = evaluator.encode_motion(gen, [len(g) for g in gen])
    n = (len(gen) // R_BATCH) * R_BATCH
    out = {"val_items": float(len(gen)), "gen_seconds": time.perf_counter() - t0}
    if n:
        r = r_precision(val.text_emb[:n], emb[:n], top_k=3, batch_size=R_BATCH)
        real = r_precision(val.text_emb[:n], val.real_emb[:n], top_k=3, batch_size=R_BATCH)
        out.update(val_r3=float(r[2]), val_r1=float(r[0]), real_r3=float(real[2]))
    out["val_mm_dist"] = float(matching_distance(val.text_emb, emb))
    return out



def plot_curves(logs: dict[str, Path], out: Path, window: int = 20) -> Path:
    """Training loss (moving mean over `window` steps) and val t2m R@3 against steps, one
    line per checkpoint's `train_log.json`: where each recipe saturates."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_r3) = plt.subplots(1, 2, figsize=(10, 3.6))
    chance = None
    for name, path in logs.items():
        hist = json.loads(Path(path).read_text())["history"]
        steps = np.array([h["step"] + 1 for h in hist])
        loss = np.array([h["loss"] for h in hist])
        k = max(1, min(window, len(loss)))
        smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
        ax_loss.plot(steps[k - 1:], smooth, label=name)
        pts = [(h["step"] + 1, h["val_r3"], h.get("real_r3")) for h in hist if "val_r3" in h]
        if pts:
            line, = ax_r3.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
            real = [p[2] for p in pts if p[2] is not None]
            if real:
                ax_r3.axhline(real[-1], color=line.get_color(), ls=":", lw=1)
        chance = 3 / R_BATCH
    if chance is not None:
        ax_r3.axhline(chance, color="grey", ls="--", lw=1, label="chance (3/32)")
    ax_loss.set(xlabel="step", ylabel=f"training loss (mean of {window} steps)", title="loss")
    ax_r3.set(xlabel="step", ylabel="val t2m R@3", ylim=(0, 1),
              title="val t2m R@3 (dotted: real val motions)")
    for ax in (ax_loss, ax_r3):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


__all__ = ["ValSet", "load_val_set", "plot_curves", "val_point"]
