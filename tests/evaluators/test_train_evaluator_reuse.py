"""`hmvlm-bench train evaluator` returns the shipped checkpoint for its exact config, as
`train tokenizer` / `train model` do, instead of retraining it."""
from __future__ import annotations

from pathlib import Path

import pytest

from hmvlm_bench import artifacts
from hmvlm_bench.artifacts import ArtifactStore
from hmvlm_bench.evaluators import factory


def test_shipped_evaluator_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    shipped = tmp_path / "checkpoints"
    seen: dict[str, object] = {}

    def fake_artifact(store: ArtifactStore, preset: str, data: object, dataset: str, progress: bool = True) -> Path:
        seen["shipped"] = store.shipped
        # the real lookup: a shipped folder with a manifest wins over training
        return store.get_or_build("evaluator", {"k": 1}, lambda tmp: pytest.fail("retrained"))

    key = ArtifactStore.key({"k": 1})
    (shipped / "evaluator" / key).mkdir(parents=True)
    (shipped / "evaluator" / key / artifacts.MANIFEST).write_text("{}")
    monkeypatch.setattr(artifacts, "shipped_roots", lambda: (shipped,))
    monkeypatch.setattr(factory, "evaluator_artifact", fake_artifact)
    path = factory.train_evaluator_cmd(preset="tiny", cache_dir=tmp_path / "cache")
    assert path == shipped / "evaluator" / key and seen["shipped"] == (shipped,)
    assert "evaluator (shipped" in capsys.readouterr().err
