from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import FEATURE_DIM
from reference_model.tokenizer.base import TOKENIZER_CLASSES, MotionTokenizer, load_tokenizer
from reference_model.tokenizer.training import build_tokenizer
from reference_model.tokenizer.config import TokenizerConfig


def _trained(variant: str) -> MotionTokenizer:
    torch.manual_seed(1)
    model = build_tokenizer(TokenizerConfig.for_preset("tiny", variant))
    model.train()
    for _ in range(3):  # initialise and move the codebooks
        model.losses(torch.randn(4, 16, FEATURE_DIM))["loss"].backward()
    return model.eval()


@pytest.mark.parametrize("variant", ["body-part", "pose", "whole-body", "whole-body-x5"])
def test_round_trip_identical_codes(variant: str, tmp_path: Path) -> None:
    model = _trained(variant)
    x = torch.randn(3, 20, FEATURE_DIM)
    model.save(tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    assert meta["variant"] == variant and meta["fingerprint"] == model.fingerprint()
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("*.pkl"))
    loaded = load_tokenizer(tmp_path)
    assert type(loaded) is type(model)
    assert loaded.fingerprint() == model.fingerprint()
    assert torch.equal(loaded.encode(x), model.encode(x))
    assert torch.equal(loaded.decode(model.encode(x)), model.decode(model.encode(x)))
    assert loaded.n_streams == (1 if variant.startswith("whole") else 5)
    assert loaded.codebook_size == {"body-part": 32, "pose": 32, "whole-body": 32, "whole-body-x5": 160}[variant]


def test_load_takes_the_class_from_the_registry_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # config.json's "class" string is never imported (a checkpoint must not pick a module
    # to run): without a registered class for its variant, loading is an error
    model = _trained("whole-body")
    model.save(tmp_path)
    assert type(MotionTokenizer.load(tmp_path)).__name__ == "WholeBodyVQ"
    monkeypatch.delitem(TOKENIZER_CLASSES, "whole-body")
    with pytest.raises(UserError, match="unknown tokenizer variant 'whole-body'"):
        MotionTokenizer.load(tmp_path)


def test_fingerprint_changes_with_weights() -> None:
    model = _trained("body-part")
    fp = model.fingerprint()
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-3
    assert model.fingerprint() != fp


def test_load_errors_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        load_tokenizer(tmp_path)
    model = _trained("whole-body")
    model.save(tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    meta["class"] = "nowhere.module:Nothing"
    meta["config"]["variant"] = "whole-body"
    (tmp_path / "config.json").write_text(json.dumps(meta))
    # the registry still resolves it; a wrong explicit class must fail loudly
    from reference_model.tokenizer.body_part import BodyPartTokenizer
    with pytest.raises(UserError):
        BodyPartTokenizer.load(tmp_path)
