"""Open the HTML report in headless Debian chromium: DOM content, sorting JS ran, no console
errors, and a screenshot (kept under the test's tmp dir for a human look)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from hmvlm_bench.reporting.render import render_reports
from hmvlm_bench.reporting.renders import side_by_side, write_gif

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium (/usr/bin/chromium)")]


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp / 'profile'}", "--enable-logging=stderr",
           "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


def test_html_in_headless_chromium(results_tree: Path, tmp_path: Path) -> None:
    render_reports(results_tree, tmp_path / "out", ["html"])
    url = (tmp_path / "out" / "leaderboard.html").resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-sortable-ready="1"' in html  # the inline script ran to its end
    assert 'id="main-table"' in html and '<td data-v="0.7798839728013611" class="best">0.780' in html
    assert "Published (HumanML3D test set, not comparable" in html
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    shot = tmp_path / "shot.png"
    res = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert res.returncode == 0 and shot.stat().st_size > 20_000
    assert not [line for line in res.stderr.splitlines() if "Uncaught" in line]


def test_console_error_is_detected(tmp_path: Path) -> None:
    """The console check above can fail: a page with a script error shows up in stderr."""
    page = tmp_path / "bad.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    res = _chromium(tmp_path, "--dump-dom", page.resolve().as_uri())
    assert any("Uncaught" in line for line in res.stderr.splitlines()), res.stderr[-1500:]


def _walker(n: int = 24) -> "np.ndarray":
    """Joints (n, 22, 3): the rest pose walking forward with swinging hands; enough to check
    that a rendering appears, without a trained model."""
    import numpy as np

    from hmvlm_bench.motion.skeleton import rest_joints

    out = np.repeat(rest_joints()[None], n, axis=0)
    out[:, :, 2] += 0.05 * np.arange(n)[:, None]
    out[:, 20:22, 1] += 0.2 * np.sin(np.arange(n) / 3)[:, None]
    return out


def test_report_shows_motion_and_fits_1280px(results_tree: Path, tmp_path: Path) -> None:
    """Acceptance (issue 19): a motion rendering in the page, nothing scrolls sideways at
    1280 px (the page, and no table inside its own scroll box either)."""
    joints = _walker()
    write_gif(side_by_side(joints, joints[::-1], "hmvlm"), results_tree / "renders" / "hmvlm__s1.gif")
    (results_tree / "renders" / "hmvlm__s1.txt").write_text("hmvlm: \u201ca person walks\u201d", encoding="utf-8")
    render_reports(results_tree, tmp_path / "out", ["html"])
    url = (tmp_path / "out" / "leaderboard.html").resolve().as_uri()
    dom = _chromium(tmp_path, "--window-size=1280,2000", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    assert 'data-gifs="1"' in body and "a person walks" in dom.stdout
    assert 'data-page-overflow="0"' in body, body
    assert 'data-wide-tables=""' in body, body  # names the sections that scroll otherwise
    shot = tmp_path / "samples.png"
    res = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900", url + "#samples")
    assert res.returncode == 0 and shot.is_file()


def test_overflow_check_can_fail(results_tree: Path, tmp_path: Path) -> None:
    """The layout probe reports a table wider than the page (here: forced by CSS)."""
    render_reports(results_tree, tmp_path / "out", ["html"])
    page = tmp_path / "out" / "leaderboard.html"
    page.write_text(page.read_text().replace("</style>", "#main-table { min-width: 3000px; }</style>"))
    dom = _chromium(tmp_path, "--window-size=1280,2000", "--dump-dom", page.resolve().as_uri())
    body = re.search(r"<body[^>]*>", dom.stdout).group(0)
    assert 'data-wide-tables="main"' in body, body
