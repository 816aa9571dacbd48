from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from reference_model.tokenizer import training
from reference_model.tokenizer.base import load_tokenizer
from reference_model.tokenizer.config import TokenizerConfig


def test_loss_falls_on_tiny_run(fake_dataset: Path, tmp_path: Path) -> None:
    out = training.train_tokenizer(fake_dataset, tmp_path / "tok", "tiny", "body-part", steps=40,
                                   progress=False)
    log = json.loads((out / "train_log.json").read_text())
    hist = log["history"]
    first, last = hist[0]["rec"], min(h["rec"] for h in hist[-2:])
    assert last < 0.7 * first, (first, last)
    assert set(log["val"]) >= {"mse_norm", "mse_raw", "mpjpe", "mpjpe_root_relative"}
    assert load_tokenizer(out).fingerprint() == log["fingerprint"]


class _Stop(Exception):
    pass


def test_resume_reproduces_uninterrupted_run(fake_dataset: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    kw = dict(preset="tiny", variant="whole-body", steps=20, progress=False, checkpoint_every=10)
    straight = training.train_tokenizer(fake_dataset, tmp_path / "a", **kw)
    fp = json.loads((straight / "train_log.json").read_text())["fingerprint"]

    real_save = training._save_checkpoint

    def save_then_crash(*args, **kwargs):
        real_save(*args, **kwargs)
        raise _Stop

    monkeypatch.setattr(training, "_save_checkpoint", save_then_crash)
    with pytest.raises(_Stop):
        training.train_tokenizer(fake_dataset, tmp_path / "b", **kw)
    assert json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())["step"] == 10
    monkeypatch.setattr(training, "_save_checkpoint", real_save)
    torch.manual_seed(1234)  # the resumed run must not depend on the caller's RNG state
    resumed = training.train_tokenizer(fake_dataset, tmp_path / "b", **kw)
    assert json.loads((resumed / "train_log.json").read_text())["fingerprint"] == fp
    assert not list((tmp_path / "b").rglob("*.pt"))


def test_lr_schedule_matches_t2m_gpt() -> None:
    c = TokenizerConfig.for_preset("paper")
    assert training.lr_at(0, c) == pytest.approx(2e-4 / 1001)
    assert training.lr_at(999, c) == pytest.approx(2e-4 * 1000 / 1001)
    assert training.lr_at(1000, c) == 2e-4 and training.lr_at(200_000, c) == pytest.approx(1e-5)


def test_presets() -> None:
    paper = TokenizerConfig.for_preset("paper")
    assert (paper.codebook_size, paper.code_dim, paper.downsample, paper.commit, paper.lr) == (512, 512, 4, 0.02, 2e-4)
    assert TokenizerConfig.for_preset("paper", "whole-body-x5").codebook_size == 2560
    assert TokenizerConfig.for_preset("paper", "pose").downsample == 1
    from hmvlm_bench.errors import UserError
    with pytest.raises(UserError):
        TokenizerConfig.for_preset("huge")
    with pytest.raises(UserError):
        TokenizerConfig.for_preset("tiny", "per-finger")


def test_cli_trains_into_artifact_cache_once(fake_dataset: Path, tmp_path: Path) -> None:
    """The registered trainer `tokenizer` (`hmvlm-bench train tokenizer`)."""
    import shutil

    from hmvlm_bench.errors import UserError
    from reference_model.hmvlm.training import train_tokenizer_cmd

    root = shutil.copytree(fake_dataset, tmp_path / "data")
    (root / "test.txt").write_text((root / "val.txt").read_text())  # the key reads the test split
    (root / "texts").mkdir(exist_ok=True)
    for sid in (root / "test.txt").read_text().split():  # which needs captions
        (root / "texts" / f"{sid}.txt").write_text("a person walks#a/DET person/NOUN walk/VERB#0.0#0.0\n")
    kw = dict(preset="tiny", variant="whole-body", data=f"synthetic={root}", steps=3,
              cache_dir=tmp_path / "cache")
    first = train_tokenizer_cmd(**kw)
    assert (first / "tokenizer.safetensors").is_file() and (first / "artifact.json").is_file()
    stamp = (first / "tokenizer.safetensors").stat().st_mtime_ns
    assert train_tokenizer_cmd(**kw) == first
    assert (first / "tokenizer.safetensors").stat().st_mtime_ns == stamp
    assert load_tokenizer(first).n_streams == 1
    with pytest.raises(UserError):
        train_tokenizer_cmd(preset="tiny", data=f"synthetic={tmp_path / 'missing'}", cache_dir=tmp_path)
    with pytest.raises(UserError):
        train_tokenizer_cmd(preset="tiny", variant="nope", data=f"synthetic={root}", cache_dir=tmp_path / "cache")
