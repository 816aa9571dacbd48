"""Sample motion renderings for the HTML report.

Sources, in order: `<results>/renders/*.gif` (caption from the same-stem `.txt`), then per-sample
outputs whose JSONL entry names a `gif` path, or a `features` path to a (T, 263) `.npy` file that
is drawn here as a stick-figure GIF. Paths in samples are relative to `<results>/<model>/`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hmvlm_bench.reporting.board import Board
from hmvlm_bench.results import load_samples

MAX_PER_PAIR = 2  # renders per (model, task): enough to look at, small enough to embed
MAX_TOTAL = 12
MAX_FRAMES = 40


@dataclass(frozen=True)
class Media:
    path: Path
    caption: str


def _resolve(results_dir: Path, model: str, raw: str) -> Path | None:
    p = Path(raw)
    for cand in ([p] if p.is_absolute() else [results_dir / model / p, results_dir / p]):
        if cand.is_file():
            return cand
    return None


def render_stick_gif(features_path: Path, out_path: Path, fps: int = 10) -> Path:
    """Oblique-view stick figure of a (T, 263) HumanML3D feature file."""
    import imageio.v2 as imageio
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    from hmvlm_bench.motion.features import features_to_joints
    from hmvlm_bench.motion.skeleton import KINEMATIC_CHAIN

    joints = features_to_joints(np.load(features_path, allow_pickle=False))  # (T, 22, 3)
    step = max(1, len(joints) // MAX_FRAMES)
    joints = joints[::step]
    # oblique view (x, z mixed) so motion along the depth axis still shows
    uv = np.stack([0.8 * joints[..., 0] + 0.6 * joints[..., 2], joints[..., 1]], axis=-1)
    lo, hi = uv.reshape(-1, 2).min(0), uv.reshape(-1, 2).max(0)
    frames = []
    fig, ax = plt.subplots(figsize=(2.4, 2.4), dpi=60)
    for j in uv:
        ax.clear()
        for chain in KINEMATIC_CHAIN:
            ax.plot(j[list(chain), 0], j[list(chain), 1], lw=2)
        ax.set_xlim(lo[0] - 0.2, hi[0] + 0.2)
        ax.set_ylim(lo[1] - 0.1, hi[1] + 0.1)
        ax.set_aspect("equal")
        ax.axis("off")
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimsave(out_path, frames, duration=1.0 / fps, loop=0)
    return out_path


def collect_media(board: Board, out_dir: Path) -> list[Media]:
    root = board.results_dir
    items: list[Media] = []
    renders = root / "renders"
    if renders.is_dir():
        for gif in sorted(renders.glob("*.gif")):
            txt = gif.with_suffix(".txt")
            cap = txt.read_text(encoding="utf-8").strip() if txt.is_file() else gif.stem
            items.append(Media(gif, cap))
    for r in board.results:
        n = 0
        for s in load_samples(root, r.model, r.task):
            if n >= MAX_PER_PAIR or len(items) >= MAX_TOTAL:
                break
            text = s.get("text") or s.get("caption") or s.get("prompt") or ""
            sid = s.get("sample_id") or s.get("id") or n
            cap = f"{r.model} / {r.task} / {sid}" + (f": {text}" if text else "")
            if isinstance(s.get("gif"), str):
                p = _resolve(root, r.model, s["gif"])
                if p is not None:
                    items.append(Media(p, cap))
                    n += 1
            elif isinstance(s.get("features"), str):
                p = _resolve(root, r.model, s["features"])
                if p is not None and p.suffix == ".npy":
                    out = out_dir / "renders" / f"{r.model}_{r.task}_{sid}.gif"
                    try:
                        items.append(Media(render_stick_gif(p, out), cap))
                        n += 1
                    except (ValueError, OSError):  # a malformed file must not sink the report
                        continue
    return items[:MAX_TOTAL]
