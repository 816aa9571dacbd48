"""`hmvlm-bench render` pieces that need no model: frames, GIF files, errors, report pickup."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import rest_joints
from hmvlm_bench.reporting.renders import MAX_FRAMES, PANEL, render_results, side_by_side, write_gif


def _motion(n: int) -> np.ndarray:
    out = np.repeat(rest_joints()[None], n, axis=0)
    out[:, :, 2] += 0.03 * np.arange(n)[:, None]
    return out


def test_side_by_side_pads_the_shorter_motion_and_caps_frames() -> None:
    frames = side_by_side(_motion(120), _motion(116), "hmvlm", size=64)
    assert frames.shape == (MAX_FRAMES, 64, 2 * 64 + 4, 3) and frames.dtype == np.uint8
    # the two panels differ from the white gap, and the right panel is drawn (not blank)
    assert frames[:, :, 64:68].min() == 255
    assert frames[:, :, 68:].std() > 10


def test_gif_written_atomically(tmp_path: Path) -> None:
    path = write_gif(side_by_side(_motion(8), _motion(8), "m", size=32), tmp_path / "r" / "m__a.gif")
    assert path.is_file() and path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    assert [p.name for p in path.parent.iterdir()] == ["m__a.gif"]


def test_render_needs_t2m_results(results_tree: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no 't2m' result for model"):
        render_results(results_tree, ["nobody"], 2, regs=None, artifacts=None, data_paths={})
    with pytest.raises(UserError, match="no 't2m' results"):
        render_results(tmp_path, None, 2, regs=None, artifacts=None, data_paths={})
    with pytest.raises(UserError, match="--n"):
        render_results(results_tree, None, 0, regs=None, artifacts=None, data_paths={})


def test_report_embeds_renders_with_their_caption(results_tree: Path, tmp_path: Path) -> None:
    from hmvlm_bench.reporting.render import render_reports

    write_gif(side_by_side(_motion(8), _motion(8), "hmvlm", size=PANEL), results_tree / "renders" / "hmvlm__x.gif")
    (results_tree / "renders" / "hmvlm__x.txt").write_text("hmvlm: a person waves", encoding="utf-8")
    render_reports(results_tree, tmp_path / "out", ["html"])
    html = (tmp_path / "out" / "leaderboard.html").read_text(encoding="utf-8")
    assert 'id="samples"' in html and "data:image/gif;base64," in html and "hmvlm: a person waves" in html
