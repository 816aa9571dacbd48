"""`hmvlm-bench train model` under `accelerate launch` with 2 CPU processes (DDP on gloo).

By hand:
    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \
        --dynamo_backend no -m hmvlm_bench train model --preset tiny --steps 6 --out DIR
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from launching import crash_after_checkpoint
from launching import launch as _launch

# in the CI tier (~30 s each on 2 cores): the acceptance runs these launches


def test_two_process_training_matches_one_and_resumes_across_process_counts(tmp_path: Path) -> None:
    from reference_model.hmvlm.network import load_network

    cache = tmp_path / "cache"
    args = ["train", "model", "--preset", "tiny", "--steps", "6"]
    one = _launch([*args, "--out", str(tmp_path / "one")], 1, cache)
    assert one.returncode == 0, one.stderr[-3000:]
    two = _launch([*args, "--out", str(tmp_path / "two")], 2, cache)
    assert two.returncode == 0, two.stderr[-3000:]
    assert "Traceback" not in two.stderr
    assert two.stdout.strip() == str(tmp_path / "two")  # the path, printed once (rank 0)

    log1 = json.loads((tmp_path / "one" / "train_log.json").read_text())
    log2 = json.loads((tmp_path / "two" / "train_log.json").read_text())
    assert (log1["world_size"], log2["world_size"]) == (1, 2)
    # same global batches in the same order; only float summation order differs
    assert [h["loss"] for h in log2["history"]] == pytest.approx([h["loss"] for h in log1["history"]], rel=1e-4)
    net = load_network(tmp_path / "two")  # the main process wrote a loadable checkpoint
    assert net.cfg.steps == 6

    # resume with another process count: stop a 1-process run right after its step-5
    # checkpoint (tiny checkpoints every 5 steps), then finish it with 2 processes
    resumed = tmp_path / "resumed"
    crash_after_checkpoint(resumed, cache, 5, preset="tiny", steps=6)
    fin = _launch([*args, "--out", str(resumed)], 2, cache)
    assert fin.returncode == 0, fin.stderr[-3000:]
    log3 = json.loads((resumed / "train_log.json").read_text())
    assert log3["world_size"] == 2 and len(log3["history"]) == 6
    assert [h["loss"] for h in log3["history"]] == pytest.approx([h["loss"] for h in log1["history"]], rel=1e-4)
