"""Open the HTML report in headless Debian chromium: DOM content, sorting JS ran, no console
errors, and a screenshot (kept under the test's tmp dir for a human look)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hmvlm_bench.reporting.render import render_reports

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
