"""Report figures (matplotlib Agg, PNG). Each plot is skipped when its inputs are absent.

- forgetting vs motion quality per model (x, y wired in leaderboard.yaml `plots`);
- gate weights per task/prompt kind (result `extra["gate_weights"]`: {kind: [w per expert]});
- per-metric bars with 95% CI whiskers, one figure per task;
- per-body-part reconstruction error (metrics `<metric>_<part>`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hmvlm_bench.motion.skeleton import PART_NAMES
from hmvlm_bench.reporting.board import Board, TaskBoard


@dataclass(frozen=True)
class Figure:
    title: str
    path: Path
    caption: str


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # no timestamps in PNG metadata: identical inputs give identical files
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return path


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", s).strip("-")


MAX_NAMED_POINTS = 8  # more points than this: numbered, with a legend, instead of name labels
GATE_COLS = 4  # gate heatmap panels per row


def gate_labels(r: Any, width: int) -> list[str]:
    """Expert labels by role: expert 0 is the zero expert (pretrained weights kept) for a
    model with one, an ordinary trainable LoRA expert otherwise (no-zero)."""
    cfg = ((r.config or {}).get("model") or {}).get("config") or {}
    zero = cfg.get("zero_expert")
    if zero is None:  # unknown (older result): say which index, not a role
        return [f"E{i}" for i in range(width)]
    return ["zero" if (zero and i == 0) else f"LoRA {i}" for i in range(width)]


def forgetting_vs_quality(board: Board, out_dir: Path) -> Figure | None:
    cfg = board.spec.plots.get("forgetting_vs_quality") or {}
    x, y = cfg.get("x") or {}, cfg.get("y") or {}
    try:
        tx, ty = board.task(x["task"]), board.task(y["task"])
    except KeyError:
        return None
    pts = []
    for m in board.models:
        cx, cy = tx.cell(m, x["metric"]), ty.cell(m, y["metric"])
        if cx is not None and cy is not None and cx.value is not None and cy.value is not None:
            pts.append((m, cx.value, cx.ci or 0.0, cy.value, cy.ci or 0.0))
    if not pts:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    xs, ys = [p[1] for p in pts], [p[3] for p in pts]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    numbered = len(pts) > MAX_NAMED_POINTS
    for i, (m, xv, xe, yv, ye) in enumerate(pts):
        ax.errorbar(xv, yv, xerr=xe, yerr=ye, fmt="o", capsize=3, label=f"{i + 1}: {m}" if numbered else None)
        if numbered:
            ax.annotate(str(i + 1), (xv, yv), textcoords="offset points", xytext=(4, 4), fontsize=7)
            continue
        # label on the side away from the nearest other point, so close points stay readable
        others = [((xs[j] - xv) / span_x, (ys[j] - yv) / span_y) for j in range(len(pts)) if j != i]
        dx, dy = min(others, key=lambda d: d[0] ** 2 + d[1] ** 2) if others else (-1.0, -1.0)
        right, up = dx <= 0, dy <= 0
        if (xv - min(xs)) / span_x < 0.15 or (max(xs) - xv) / span_x < 0.15:
            right = (xv - min(xs)) / span_x < 0.15  # at an edge: label towards the inside
        ax.annotate(m, (xv, yv), textcoords="offset points", xytext=(5 if right else -5, 5 if up else -11),
                    ha="left" if right else "right", fontsize=8)
    ax.set_xlabel(x.get("label", x["metric"]))
    ax.set_ylabel(y.get("label", y["metric"]))
    ax.set_title("Forgetting vs motion quality (up-left is better)")
    ax.grid(alpha=0.3)
    if numbered:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    path = _save(fig, out_dir / "plots" / "forgetting_vs_quality.png")
    return Figure("Forgetting vs motion quality", path,
                  f"x: {x['task']}.{x['metric']} (lower is better); y: {y['task']}.{y['metric']}; "
                  "whiskers: 95% CI.")


def gate_weights(board: Board, out_dir: Path) -> Figure | None:
    per_model: dict[str, dict[str, list[float]]] = {}
    names: dict[str, list[str]] = {}
    for r in board.results:
        gw = (r.extra or {}).get("gate_weights")
        if not isinstance(gw, dict):
            continue
        for kind, w in gw.items():
            if isinstance(w, (list, tuple)) and w and all(isinstance(v, (int, float)) for v in w):
                per_model.setdefault(r.model, {})[str(kind)] = [float(v) for v in w]
        en = (r.extra or {}).get("gate_expert_names")
        if isinstance(en, list):
            names[r.model] = [str(n) for n in en]
        elif r.model in per_model:
            names.setdefault(r.model, gate_labels(r, max(len(v) for v in per_model[r.model].values())))
    if not per_model:
        return None
    import numpy as np

    plt = _plt()
    models = sorted(per_model)
    ncol = min(GATE_COLS, len(models))
    nrow = (len(models) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, (0.5 * max(len(v) for v in per_model.values()) + 1.8) * nrow),
                             squeeze=False, gridspec_kw={"wspace": 0.45, "hspace": 0.6})
    for ax in list(axes.flat)[len(models):]:
        ax.axis("off")
    for ax, m in zip(axes.flat, models):
        kinds = sorted(per_model[m])
        width = max(len(v) for v in per_model[m].values())
        mat = np.full((len(kinds), width), np.nan)
        for i, k in enumerate(kinds):
            mat[i, :len(per_model[m][k])] = per_model[m][k]
        im = ax.imshow(mat, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
        ax.set_yticks(range(len(kinds)), kinds, fontsize=8)
        labels = names.get(m) or [f"E{i}" for i in range(width)]
        ax.set_xticks(range(width), labels[:width], fontsize=8)
        for i in range(len(kinds)):
            for j in range(width):
                if np.isfinite(mat[i, j]):
                    ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if mat[i, j] < 0.5 else "black")
        ax.set_title(m, fontsize=9)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="mean gate weight")
    path = _save(fig, out_dir / "plots" / "gate_weights.png")
    return Figure("Gate weights per task", path,
                  "Mean soft gate weight per expert and prompt kind. 'zero': the zero expert (keeps "
                  "the pretrained weights; the gating loss pulls general prompts to it); 'LoRA i': a "
                  "trainable expert. A model without a zero expert (no-zero) has only trainable ones; "
                  "its gating loss pulls general prompts to LoRA 0.")


def metric_bars(tb: TaskBoard, out_dir: Path) -> Figure | None:
    # every metric with a value (no cap: reconstruction has 15), none whose bars would all be
    # zero-height (an empty-looking panel says nothing)
    metrics = [m for m in tb.display.metrics
               if any(tb.cell(mod, m.name) is not None and tb.cell(mod, m.name).value not in (None, 0, 0.0)
                      for mod in tb.models)]
    if not metrics or not tb.models:
        return None
    plt = _plt()
    n_models = len(tb.models)
    # panels widen with the number of models so 15 labels stay readable
    panel_w = max(4.0, 0.3 * n_models + 1.2)
    ncol = max(1, min(3, len(metrics), int(12 // panel_w)))
    nrow = (len(metrics) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(panel_w * ncol, 3.1 * nrow), squeeze=False)
    for ax, md in zip(axes.flat, metrics):
        vals, errs, labels = [], [], []
        for mod in tb.models:
            rec = tb.cell(mod, md.name)
            if rec is None or rec.value is None:
                continue
            labels.append(mod)
            vals.append(rec.value)
            errs.append(rec.ci or 0.0)
        colors = ["tab:orange" if lab in tb.best.get(md.name, set()) else "tab:blue" for lab in labels]
        ax.bar(range(len(vals)), vals, yerr=errs, capsize=3, color=colors)
        ax.set_xticks(range(len(vals)), labels, rotation=30 if n_models <= 6 else 60, ha="right",
                      fontsize=8 if n_models <= 8 else 7)
        ax.set_title(f"{md.display} ({md.better or '?'})", fontsize=9)
        if md.name in tb.real:
            ax.axhline(tb.real[md.name], color="gray", ls="--", lw=1)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(tb.display.display, fontsize=10)
    fig.tight_layout()
    path = _save(fig, out_dir / "plots" / f"bars_{_slug(tb.name)}.png")
    return Figure(f"{tb.display.display}: all metrics", path,
                  "Bars: mean; whiskers: 95% CI; orange: best; dashed: reference (real) value.")


def body_part_errors(board: Board, out_dir: Path) -> Figure | None:
    task = board.spec.plots.get("body_part_task", "reconstruction")
    bases = board.spec.plots.get("body_part_metrics", ["mse", "mpjpe"])
    try:
        tb = board.task(task)
    except KeyError:
        return None
    present = [b for b in bases if any(tb.cell(m, f"{b}_{p}") is not None
                                       for m in tb.models for p in PART_NAMES)]
    if not present:
        return None
    import numpy as np

    plt = _plt()
    fig, axes = plt.subplots(1, len(present), figsize=(5.5 * len(present), 3.4), squeeze=False)
    for ax, base in zip(axes[0], present):
        models = [m for m in tb.models if any(tb.cell(m, f"{base}_{p}") is not None for p in PART_NAMES)]
        width = 0.8 / max(len(models), 1)
        for i, m in enumerate(models):
            vals = [getattr(tb.cell(m, f"{base}_{p}"), "value", None) for p in PART_NAMES]
            errs = [getattr(tb.cell(m, f"{base}_{p}"), "ci", None) or 0.0 for p in PART_NAMES]
            xs = np.arange(len(PART_NAMES)) + i * width
            ax.bar(xs, [np.nan if v is None else v for v in vals], width, yerr=errs, capsize=2, label=m)
        ax.set_xticks(np.arange(len(PART_NAMES)) + width * (len(models) - 1) / 2,
                      [p.replace("_", " ") for p in PART_NAMES], fontsize=8)
        ax.set_title(f"{base} per body part (lower is better)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = _save(fig, out_dir / "plots" / "body_part_errors.png")
    return Figure("Reconstruction error per body part", path,
                  "Per-part error of the tokenizer reconstruction (HMVLM's five parts).")


def make_plots(board: Board, out_dir: Path) -> list[Figure]:
    figs: list[Figure | None] = [forgetting_vs_quality(board, out_dir), gate_weights(board, out_dir),
                                 body_part_errors(board, out_dir)]
    figs += [metric_bars(tb, out_dir) for tb in board.tasks]
    return [f for f in figs if f is not None]
