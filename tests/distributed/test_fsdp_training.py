"""The full fine-tune baseline under the shipped FSDP config, 2 CPU processes (FSDP2 on gloo).

By hand:
    accelerate launch --config_file baselines/accelerate/fsdp_full_ft.yaml --num_processes 2 \
        --mixed_precision no -m hmvlm_bench train model --preset tiny --variant full-ft --steps 6 --out DIR
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from launching import REPO, crash_after_checkpoint, launch

# in the CI tier (~30 s each on 2 cores): the acceptance runs these launches

CONFIG = REPO / "baselines" / "accelerate" / "fsdp_full_ft.yaml"
ARGS = ["train", "model", "--preset", "tiny", "--variant", "full-ft", "--steps", "6"]


def _tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


def test_fsdp_full_ft_matches_one_process_and_resumes_a_one_process_run(tmp_path: Path) -> None:
    import torch

    from reference_model.hmvlm.network import load_network

    cache = tmp_path / "cache"
    one = launch([*ARGS, "--out", str(tmp_path / "one")], 1, cache)
    assert one.returncode == 0, one.stderr[-3000:]
    two = launch([*ARGS, "--out", str(tmp_path / "fsdp")], 2, cache, CONFIG)
    assert two.returncode == 0, two.stderr[-3000:]
    assert "Traceback" not in two.stderr

    log1 = json.loads((tmp_path / "one" / "train_log.json").read_text())
    log2 = json.loads((tmp_path / "fsdp" / "train_log.json").read_text())
    assert (log2["world_size"], log2["distributed_type"]) == (2, "FSDP")  # sharded, not a DDP fallback
    assert log2["sharded_parameters"] > 0 and log1["sharded_parameters"] == 0
    assert [h["loss"] for h in log2["history"]] == pytest.approx([h["loss"] for h in log1["history"]], rel=1e-4)
    # checkpoints hold full tensors (gathered), equal to the unsharded run's up to summation order
    for name in ("llm.safetensors", "new_tokens.safetensors", "work/trainable.safetensors",
                 "work/optimizer.safetensors"):
        a, b = _tensors(tmp_path / "one" / name), _tensors(tmp_path / "fsdp" / name)
        assert a.keys() == b.keys(), name
        for k in a:
            assert a[k].shape == b[k].shape, (name, k)
            torch.testing.assert_close(b[k].float(), a[k].float(), rtol=1e-3, atol=1e-4, msg=f"{name}:{k}")
    assert load_network(tmp_path / "fsdp").cfg.adapter == "full"

    # a 1-process run stopped after its step-5 checkpoint, finished under FSDP (moments scattered)
    resumed = tmp_path / "resumed"
    crash_after_checkpoint(resumed, cache, 5, preset="tiny", variant="full-ft", steps=6)
    fin = launch([*ARGS, "--out", str(resumed)], 2, cache, CONFIG)
    assert fin.returncode == 0, fin.stderr[-3000:]
    log3 = json.loads((resumed / "train_log.json").read_text())
    assert log3["distributed_type"] == "FSDP" and len(log3["history"]) == 6
    assert [h["loss"] for h in log3["history"]] == pytest.approx([h["loss"] for h in log1["history"]], rel=1e-4)
    a, b = _tensors(tmp_path / "one" / "llm.safetensors"), _tensors(resumed / "llm.safetensors")
    for k in a:
        torch.testing.assert_close(b[k].float(), a[k].float(), rtol=1e-3, atol=1e-4, msg=k)
