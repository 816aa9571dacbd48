"""scripts/gpu_train.sh (train on a lent GPU, parts back through $OUT) and
scripts/import_gpu_checkpoints.sh (parts -> cache), run on CPU at the tiny preset."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _digests(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.rglob("*")) if p.is_file()}


def test_gpu_train_script_round_trip(tmp_path):
    state = Path("/tmp/hmvlm_gpu_train")
    subprocess.run(["rm", "-rf", str(state)], check=True)
    out, cache = tmp_path / "out", tmp_path / "imported"
    env = {**os.environ, "HMVLM_BENCH_CACHE": str(tmp_path / "device_cache"), "DEVICE_SMOKE": "1", "PRESET": "tiny", "PYTHON": sys.executable, "OUT": str(out),
           "OMP_NUM_THREADS": "1"}
    res = subprocess.run(["bash", "scripts/gpu_train.sh", "train", "lora", "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    (entry,) = json.loads((out / "manifest.json").read_text())
    assert entry["variant"] == "lora" and entry["device"]["device"] == "cpu"
    # a wrong expected train split stops before training
    bad = subprocess.run(["bash", "scripts/gpu_train.sh", "train", "lora", "0"], cwd=ROOT,
                         env={**env, "EXPECT_TRAIN_HASH": "0" * 16, "OUT": str(tmp_path / "o2")},
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 5 and "differs" in bad.stderr
    imp = subprocess.run(["bash", "scripts/import_gpu_checkpoints.sh", str(out)], cwd=ROOT,
                         env={**os.environ, "HMVLM_BENCH_CACHE": str(cache)}, capture_output=True, text=True)
    assert imp.returncode == 0, imp.stdout + imp.stderr
    trained = tmp_path / "device_cache" / "model" / entry["key"]
    assert _digests(cache / "model" / entry["key"]) == _digests(trained)
