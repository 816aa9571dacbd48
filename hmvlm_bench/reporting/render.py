"""`hmvlm-bench report`: every requested format from the result files only."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hmvlm_bench.errors import UserError
from hmvlm_bench.results import atomic_write_text

FORMATS = ("md", "html", "tex", "csv")


def render_reports(results_dir: Path, out_dir: Path, formats: list[str], registries: Any = None) -> list[Path]:
    """Write leaderboard.{md,html,tex,csv} (and plots/ for html) into `out_dir` (task
    displays from `registries`, as for `build_board`)."""
    from hmvlm_bench.reporting.board import build_board

    formats = [f.strip().lower() for f in formats if f.strip()] or ["md"]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserError(f"unknown report format '{bad[0]}' (known: {', '.join(FORMATS)})")
    board = build_board(Path(results_dir), registries=registries)
    out_dir = Path(out_dir)
    written: list[Path] = []
    for fmt in dict.fromkeys(formats):
        path = out_dir / f"leaderboard.{fmt}"
        if fmt == "md":
            from hmvlm_bench.reporting.leaderboard import render_markdown

            text = render_markdown(board)
        elif fmt == "csv":
            from hmvlm_bench.reporting.tidy import render_csv

            text = render_csv(board)
        elif fmt == "tex":
            from hmvlm_bench.reporting.latex import render_latex

            text = render_latex(board)
        else:
            from hmvlm_bench.reporting.html import render_html
            from hmvlm_bench.reporting.media import collect_media
            from hmvlm_bench.reporting.plots import make_plots

            figures = make_plots(board, out_dir)
            written += [f.path for f in figures]
            text = render_html(board, figures, collect_media(board, out_dir))
        atomic_write_text(path, text)
        written.append(path)
    return written
