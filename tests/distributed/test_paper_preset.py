"""Paper preset: one-line preflight (fast) and the random-weights smoke at real widths (slow)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hmvlm_bench.cli.main import main


def test_paper_run_without_files_exits_2_naming_every_missing_path(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--preset", "paper", "--tasks", "t2m", "--output-dir", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    for need in ("--data humanml3d=DIR", "--evaluator humanml3d=DIR", "llm_path=DIR", "clip_text_path=DIR",
                 "clip_vision_path=DIR"):
        assert need in err
    assert not (tmp_path / "out").exists()  # nothing ran


def test_paper_preflight_reports_a_wrong_path_and_accepts_given_ones(capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: Path) -> None:
    (tmp_path / "clip").mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["run", "--preset", "paper", "--tasks", "t2m", "--models", "hmvlm", "--data", f"humanml3d={tmp_path}",
              "--evaluator", f"humanml3d={tmp_path}", "--model-args",
              f"llm_path={tmp_path}/nope,clip_text_path={tmp_path}/clip,clip_vision_path={tmp_path}/clip",
              "--output-dir", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    # one line naming every problem: the empty data folder (read by the t2m preflight) and the bad path
    assert len(err.splitlines()) == 1 and "is missing: " in err and "new_joint_vecs" in err
    assert err.endswith(f"; --model-args llm_path={tmp_path}/nope (no such directory)")


def test_paper_training_without_files_exits_2_naming_every_missing_path(capsys: pytest.CaptureFixture[str],
                                                                        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(SystemExit) as exc:
        main(["train", "model", "--preset", "paper", "--variant", "full-ft", "--cache-dir", str(cache)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    for need in ("--data humanml3d=DIR", "llm_path=DIR", "clip_vision_path=DIR"):
        assert need in err
    assert "clip_text_path" not in err  # a full fine-tune has no prompt gate
    with pytest.raises(SystemExit):
        main(["train", "model", "--preset", "paper", "--variant", "hmvlm", "--cache-dir", str(cache)])
    assert "clip_text_path=DIR" in capsys.readouterr().err
    (tmp_path / "clip").mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["train", "model", "--preset", "paper", "--cache-dir", str(cache), "--data", f"humanml3d={tmp_path}/no",
              "--model-args", f"llm_path={tmp_path}/clip,clip_path={tmp_path}/clip"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().endswith(f"is missing: --data humanml3d={tmp_path}/no (no such directory)")
    with pytest.raises(SystemExit) as exc:
        main(["train", "model", "--preset", "tiny", "--model-args", "lm_path=x"])
    assert exc.value.code == 2
    assert "unknown --model-args key 'lm_path' for hmvlm — did you mean 'llm_path'?" in capsys.readouterr().err
    assert not cache.exists()  # nothing was built


def test_random_weights_need_no_files_and_only_the_paper_preset() -> None:
    from hmvlm_bench.errors import UserError
    from reference_model import paper_shapes as P
    from reference_model.hmvlm.training import train_model

    assert P.parse(P.random_path(P.LLM, 2)) == (P.LLM, 2)
    assert P.parse(P.random_path(P.CLIP_VISION)) == (P.CLIP_VISION, None)
    with pytest.raises(UserError):
        P.parse("random:gpt-5")
    with pytest.raises(UserError, match="paper preset"):
        train_model(preset="tiny", random_weights=True)


def test_rank_micro_batches_partition_every_step() -> None:
    from hmvlm_bench.errors import UserError
    from reference_model.hmvlm.training import rank_micro_batches

    # paper: batch 32 / micro 2 = 16 micro-batches per step, over 1, 2, 4, 8 processes
    for world in (1, 2, 4, 8):
        parts = [rank_micro_batches(16, r, world) for r in range(world)]
        assert sorted(m for p in parts for m in p) == list(range(16))
        assert {len(p) for p in parts} == {16 // world}
    with pytest.raises(UserError, match="cannot be split"):
        rank_micro_batches(16, 0, 3)


@pytest.mark.slow
def test_random_weights_paper_smoke_on_cpu(tmp_path: Path) -> None:
    """Llama-2-7B widths (4096, 11008, 32 heads) and CLIP-L widths cut to 2 layers: two
    training steps, then the checkpoint answers pose requests through CLIP vision + LLM
    (about 5 minutes and 6 GB on 2 CPU cores)."""
    import torch

    from reference_model.hmvlm.network import load_network
    from reference_model.hmvlm.training import train_model

    out = train_model(preset="paper", random_weights=True, num_layers=2, steps=2, batch_size=4,
                      tokenizer_preset="tiny", out=tmp_path / "ckpt", progress=False)
    log = json.loads((out / "train_log.json").read_text())
    assert len(log["history"]) == 2 and all(torch.isfinite(torch.tensor(h["loss"])) for h in log["history"])
    net = load_network(out)
    llm_cfg = net.llm.get_base_model().config
    assert (llm_cfg.hidden_size, llm_cfg.intermediate_size, llm_cfg.num_hidden_layers) == (4096, 11008, 2)
    assert net.gate.encoder.dim == 768 and net.vision.encoder.feature_dim == 1024
    run = subprocess.run([sys.executable, "-m", "hmvlm_bench", "run", "--preset", "paper", "--tasks",
                          "pose_from_image", "--dataset", "synthetic", "--limit", "2", "--device", "cpu",
                          "--no-progress", "--model-args", f"checkpoint={out},batch_size=2",
                          "--output-dir", str(tmp_path / "res")], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    res = json.loads((tmp_path / "res" / "hmvlm" / "pose_from_image.json").read_text())
    assert res["n_samples"] == 2 and res["preset"] == "paper"
