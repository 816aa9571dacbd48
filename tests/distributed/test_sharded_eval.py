"""`accelerate launch` with 2 CPU processes gives the same metrics as one process.

The same commands by hand (CPU-only machine):
    hmvlm-bench run --tasks t2m --preset tiny --models ground-truth,random -o D1
    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \
        --dynamo_backend no -m hmvlm_bench run --tasks t2m --preset tiny \
        --models ground-truth,random -o D2
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# in the CI tier (~30 s each on 2 cores): the acceptance runs these launches

TASKS = "t2m,m2t,pose_from_image,reconstruction"
ARGS = ["run", "--tasks", TASKS, "--preset", "tiny", "--models", "ground-truth,random", "--no-progress"]


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ, HMVLM_BENCH_CACHE=str(cache), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    return env


@pytest.mark.skipif(shutil.which("accelerate") is None and not Path(sys.executable).with_name("accelerate").exists(),
                    reason="accelerate launcher not installed")
def test_two_processes_match_one(tmp_path: Path) -> None:
    cache = tmp_path / "cache"  # a cold cache: both ranks race to build the same artifacts
    accelerate = str(Path(sys.executable).with_name("accelerate"))
    two = subprocess.run(
        [accelerate, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
         "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
         "-m", "hmvlm_bench", *ARGS, "--output-dir", str(tmp_path / "two")],
        env=_env(cache), capture_output=True, text=True, timeout=900)
    assert two.returncode == 0, two.stderr[-3000:]
    one = subprocess.run([sys.executable, "-m", "hmvlm_bench", *ARGS, "--output-dir", str(tmp_path / "one")],
                         env=_env(cache), capture_output=True, text=True, timeout=900)
    assert one.returncode == 0, one.stderr[-3000:]

    # one summary table (rank 0), no crash report from a left-open process group
    assert two.stderr.count("run summary") == 1
    for bad in ("Traceback", "ChildFailedError", "destroy_process_group"):
        assert bad not in two.stderr
    files = sorted((tmp_path / "one").glob("*/*.json"))
    assert len(files) == 8
    for f in files:
        a = json.loads(f.read_text())
        b = json.loads((tmp_path / "two" / f.parent.name / f.name).read_text())
        assert (a["world_size"], b["world_size"]) == (1, 2)
        assert a["fingerprint"] == b["fingerprint"] and a["task_hash"] == b["task_hash"]
        assert a["metrics"] == b["metrics"], f"{f.parent.name}/{f.name}"  # bit-identical, not close
        samples = f.with_suffix(".samples.jsonl")
        assert samples.read_text() == (tmp_path / "two" / f.parent.name / samples.name).read_text()
