"""`--preset` and `--variant` help texts come from the registries, not from hand-written lists
(issue 16: `train evaluator --preset` said `tiny | mini`, `train model --variant` named four of
six variants, `train tokenizer --variant` left out `pose`)."""
from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from hmvlm_bench.cli.main import app
from hmvlm_bench.presets import PRESETS, preset_help
from reference_model.hmvlm import variants as V
from reference_model.tokenizer.config import VARIANTS as TOKENIZER_VARIANTS


def _flat(text: str) -> str:
    """Without whitespace: help wraps long lines (at spaces and after hyphens)."""
    return "".join(text.split())


def _help(*command: str) -> str:
    res = CliRunner().invoke(app, [*command, "--help"])
    assert res.exit_code == 0, res.output
    return _flat(res.output)


def test_preset_help_names_every_registered_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    assert preset_help() == " | ".join(PRESETS) == "tiny | mini | paper"
    assert preset_help(summaries=True) == "tiny (tests, seconds) | mini (CPU default) | paper (GPU, real data)"
    assert _flat(preset_help(summaries=True) + ".") in _help("run")
    for command in (("train", "tokenizer"), ("train", "evaluator"), ("train", "model")):
        assert _flat(f"{preset_help()} [default: mini]") in _help(*command), command
    # a new preset (README "Add a preset": no summary) is listed by its name
    monkeypatch.setitem(PRESETS, "small", dataclasses.replace(PRESETS["mini"], name="small", summary=""))
    assert preset_help() == "tiny | mini | paper | small"
    assert preset_help(summaries=True).endswith("| paper (GPU, real data) | small")


def test_a_preset_summary_is_help_text_not_a_setting() -> None:
    """Results record `preset.to_dict()` and hashes may see `repr`: neither holds it."""
    mini = PRESETS["mini"]
    assert mini.summary and "summary" not in mini.to_dict() and "summary" not in repr(mini)
    assert dataclasses.replace(mini, summary="other") == mini


def test_train_model_variant_help_names_every_registered_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    others = [n for n in V.variant_names() if n != "hmvlm"]
    assert len(others) >= 6
    assert _flat("hmvlm or a registered variant of it: " + ", ".join(others)) in _help("train", "model")
    # one entry in VARIANTS (README "Add a variant") and the help lists it, read when shown
    monkeypatch.setattr(V, "VARIANTS", dict(V.VARIANTS))
    monkeypatch.setitem(V.VARIANTS, "lora-help", V.Variant("lora-help", dict(adapter="lora"), "test only"))
    assert _flat(", ".join([*others, "lora-help"]) + " (the models") in _help("train", "model")


def test_train_tokenizer_variant_help_names_the_trainers_variants() -> None:
    assert _flat(" | ".join(TOKENIZER_VARIANTS) + " [default: body-part]") in _help("train", "tokenizer")
    assert "pose" in TOKENIZER_VARIANTS
