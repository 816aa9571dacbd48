"""Issue 3 acceptance through the real CLI: synth is byte-deterministic; validate names problems."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hmvlm_bench", *args], capture_output=True,
                          text=True, timeout=300)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_synth_twice_identical_then_validate_catches_corruption(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        r = _cli("data", "synth", "--out", str(d), "--size", "64", "--seed", "0")
        assert r.returncode == 0, r.stderr
    assert _files(a) == _files(b)
    r = _cli("validate", "--data", f"synthetic={a}")
    assert r.returncode == 0, r.stderr

    victim = sorted((a / "new_joint_vecs").glob("*.npy"))[0]
    arr = np.load(victim)
    arr[1, 7] = np.nan
    np.save(victim, arr)
    (b / "Mean.npy").unlink()
    r = _cli("validate", "--data", f"synthetic={a}", "--data", f"other={b}")
    assert r.returncode == 2
    assert victim.name in r.stderr and "NaN" in r.stderr
    assert "Mean.npy" in r.stderr
    assert "Traceback" not in r.stderr
