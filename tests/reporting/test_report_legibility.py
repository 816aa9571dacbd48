"""Report content a reader relies on: floor rows never 'best', no all-zero columns or
panels, display names for emitted metrics, gate experts labelled by role, 15 models."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from reporting_fixtures import make_result

from hmvlm_bench.reporting.board import build_board
from hmvlm_bench.reporting.plots import gate_labels, gate_weights, make_plots
from hmvlm_bench.results import write_result


def _tree(root: Path, n_variants: int = 12) -> Path:
    rng = np.random.default_rng(0)
    models = ["ground-truth", "random", "hmvlm", *[f"v{i:02d}" for i in range(n_variants)]]
    for m in models:
        fid = 0.01 if m == "random" else float(rng.uniform(0.5, 3))  # random draws real motions
        extra = {"gate_weights": {"t2m": list(rng.dirichlet(np.ones(5)))}} if m not in ("ground-truth", "random") else {}
        cfg = {"model": {"config": {"zero_expert": m != "v00"}}}
        write_result(root, make_result(m, "t2m", {"r_precision_top3": float(rng.uniform(0.1, 0.3)), "fid": fid,
                                                  "failure_rate": 0.0}, main="r_precision_top3",
                                       extra=extra, config=cfg), [])
        if m != "ground-truth":
            write_result(root, make_result(m, "forgetting", {"forgetting": float(rng.uniform(15, 25))},
                                           main="forgetting"), [])
    return root


def test_floor_row_is_never_best_and_zero_failures_are_one_note(tmp_path: Path) -> None:
    board = build_board(_tree(tmp_path / "r"))
    tb = board.task("t2m")
    assert "random" not in tb.best["fid"]
    names = [m.name for m in tb.display.metrics]
    assert "failure_rate" not in names and any("no sample failed" in n for n in tb.notes)
    assert all(m.display != m.name or m.name in ("fid",) for m in tb.display.metrics)  # display names


def test_gate_experts_labelled_by_role(tmp_path: Path) -> None:
    root = _tree(tmp_path / "r", n_variants=2)
    board = build_board(root)
    by_model = {r.model: r for r in board.results if r.task == "t2m"}
    assert gate_labels(by_model["hmvlm"], 5) == ["zero", "LoRA 1", "LoRA 2", "LoRA 3", "LoRA 4"]
    assert gate_labels(by_model["v00"], 5) == ["LoRA 0", "LoRA 1", "LoRA 2", "LoRA 3", "LoRA 4"]
    fig = gate_weights(board, tmp_path / "out")
    assert fig is not None and "'zero'" in fig.caption


def test_fifteen_models_plot(tmp_path: Path) -> None:
    board = build_board(_tree(tmp_path / "r"))
    assert len(board.models) == 15
    figs = make_plots(board, tmp_path / "out")
    names = {f.path.name for f in figs}
    assert {"gate_weights.png", "forgetting_vs_quality.png", "bars_t2m.png"} <= names
    from PIL import Image

    w, h = Image.open(tmp_path / "out" / "plots" / "gate_weights.png").size
    assert w < 2000  # panels wrap into rows instead of one 15-panel strip
