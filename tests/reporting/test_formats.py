"""CSV shape, LaTeX content (+ pdflatex compile when present), HTML self-containment, plots."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.reporting.render import render_reports
from hmvlm_bench.reporting.tidy import COLUMNS
from hmvlm_bench.results import iter_results


def test_csv_is_tidy(results_tree: Path, tmp_path: Path) -> None:
    (path,) = render_reports(results_tree, tmp_path, ["csv"])
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    measured = [r for r in rows if r["source"] == "measured"]
    expected = sum(len(r.metrics) for r in iter_results(results_tree))
    assert len(measured) == expected == 3 * 3 + 2 * 6 + 2
    assert list(rows[0]) == list(COLUMNS)
    keys = {(r["model"], r["task"], r["metric"]) for r in measured}
    assert len(keys) == len(measured)  # one row per model/task/metric
    r = next(r for r in measured if (r["model"], r["task"], r["metric"]) == ("hmvlm", "t2m", "fid"))
    assert r["n"] == "5" and r["evaluator_hash"] == "e1e1e1e1abcdef00" and r["is_main"] == "False"
    assert r["dataset"] == "synthetic" and float(r["ci"]) > 0
    pub = [r for r in rows if r["source"].startswith("published")]
    assert any(r["model"] == "MoMask" and r["metric"] == "fid" and float(r["value"]) == 0.045 for r in pub)


def test_latex_tables(results_tree: Path, tmp_path: Path) -> None:
    (path,) = render_reports(results_tree, tmp_path, ["tex"])
    tex = path.read_text()
    assert "\\usepackage{booktabs}" in tex and tex.count("\\toprule") == 4
    assert "\\textbf{0.780}{\\scriptsize$\\pm$0.004}" in tex
    assert "evaluator: hmvlm-contrastive (e1e1e1e1)" in tex and "replications: 5" in tex
    assert "Dataset: synthetic (d4a7a5e7)" in tex
    assert "mse\\_torso" not in tex and "Recon. MSE (torso)" in tex


def test_latex_compiles(results_tree: Path, tmp_path: Path) -> None:
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-recommended)")
    (path,) = render_reports(results_tree, tmp_path, ["tex"])
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{booktabs}\n"
                   "\\begin{document}\n\\input{leaderboard.tex}\n\\end{document}\n")
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_html_self_contained_with_plots_and_gifs(results_tree: Path, tmp_path: Path) -> None:
    import imageio.v2 as imageio

    renders = results_tree / "renders"
    renders.mkdir()
    frames = [np.full((8, 8, 3), 40 * i, dtype=np.uint8) for i in range(3)]
    imageio.mimsave(renders / "walk.gif", frames, duration=0.1)
    (renders / "walk.txt").write_text("a person walks forward")
    paths = render_reports(results_tree, tmp_path / "out", ["html"])
    html = (tmp_path / "out" / "leaderboard.html").read_text()
    names = {p.name for p in paths}
    assert {"forgetting_vs_quality.png", "gate_weights.png", "body_part_errors.png",
            "bars_t2m.png", "leaderboard.html"} <= names
    assert html.count("data:image/png;base64,") == 6 and "data:image/gif;base64," in html
    assert "a person walks forward" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html
    assert '<td data-v="0.7798839728013611" class="best">0.780' in html


def test_stick_figure_from_features(results_tree: Path, tmp_path: Path) -> None:
    from hmvlm_bench.motion.features import joints_to_features
    from hmvlm_bench.motion.skeleton import rest_joints
    from hmvlm_bench.results import load_samples, samples_path

    t = np.linspace(0, 1, 24)[:, None, None]
    joints = rest_joints()[None] + t * np.array([0.0, 0.0, 1.0])  # walk forward 1 m
    np.save(results_tree / "hmvlm" / "m1.npy", joints_to_features(joints))
    s = load_samples(results_tree, "hmvlm", "reconstruction")
    s[0]["features"] = "m1.npy"
    s[0]["text"] = "glides forward"
    import json
    samples_path(results_tree, "hmvlm", "reconstruction").write_text(
        "\n".join(json.dumps(x) for x in s) + "\n")
    render_reports(results_tree, tmp_path, ["html"])
    gif = tmp_path / "renders" / "hmvlm_reconstruction_s0.gif"
    assert gif.is_file() and len(imageio_frames(gif)) > 1
    assert "glides forward" in (tmp_path / "leaderboard.html").read_text()


def imageio_frames(path: Path) -> list:
    import imageio.v2 as imageio

    return list(imageio.mimread(path))


def test_unknown_format(results_tree: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown report format 'pdf'"):
        render_reports(results_tree, tmp_path, ["md", "pdf"])
