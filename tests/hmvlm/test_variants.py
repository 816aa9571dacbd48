"""A variant is one `Variant` entry (reference_model/hmvlm/variants.py): its config delta,
model class, model registration and `train model --variant` choice all come from it, and
README "Add a variant" works as written (in the table, and from an `--include-path` plugin)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hmvlm_bench.errors import UserError
from hmvlm_bench.plugins import load_registries
from reference_model.hmvlm import variants as V
from reference_model.hmvlm.config import HMVLMConfig

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "variant_plugin"
README = Path(__file__).resolve().parents[2] / "README.md"
BUILT_IN = ("hmvlm", "lora", "full-ft", "whole-body", "whole-body-x5", "no-zero", "no-gate-loss")


def test_built_in_variants_and_their_registrations() -> None:
    from reference_model.hmvlm.model import HMVLMModel
    from reference_model.hmvlm.tokenizer_model import TokenizerModel

    assert tuple(V.variant_names()) == BUILT_IN
    assert V.variant_names("tokenizer") == ["tokenizer-body-part", "tokenizer-whole-body", "tokenizer-whole-body-x5"]
    regs = load_registries()
    for name, v in V.VARIANTS.items():
        cls = regs.models.get(name)
        assert cls is V.variant_model(name) and cls.name == name
        assert regs.models.meta(name)["description"] == v.description
        if v.kind == "model":
            assert issubclass(cls, HMVLMModel) and cls.variant == name
            assert regs.models.meta(name)["trainer"] == "model"
        else:
            assert issubclass(cls, TokenizerModel) and "trainer" not in regs.models.meta(name)
            assert cls.tokenizer_variant == v.delta.get("motion_tokenizer", "body-part")
    assert regs.models.get("hmvlm") is HMVLMModel and regs.models.get("tokenizer-body-part") is TokenizerModel


def test_old_import_paths_are_the_registered_classes() -> None:
    from baselines.full_ft import FullFTModel
    from baselines.lora import LoRAModel
    from baselines.variants import NoZeroModel, WholeBodyX5TokenizerModel
    from reference_model.hmvlm.config import VARIANT_DELTAS

    assert LoRAModel is V.variant_model("lora") and FullFTModel.variant == "full-ft"
    assert NoZeroModel.variant == "no-zero" and WholeBodyX5TokenizerModel.tokenizer_variant == "whole-body-x5"
    assert VARIANT_DELTAS == {n: dict(V.VARIANTS[n].delta) for n in BUILT_IN}


def test_a_delta_naming_no_config_field_is_refused() -> None:
    with pytest.raises(ValueError, match="lora_rank"):
        V.Variant("typo", dict(lora_rank=16))
    with pytest.raises(UserError, match="did you mean 'no-zero'"):
        HMVLMConfig.for_preset("tiny", "no-zer")


def _check_lora_r16(regs) -> None:
    """What README "Add a variant" promises for `lora-r16`."""
    cfg, lora = HMVLMConfig.for_preset("tiny", "lora-r16"), HMVLMConfig.for_preset("tiny", "lora")
    changed = {k for k, v in cfg.to_dict().items() if v != lora.to_dict()[k]}
    assert changed == {"variant", "lora_r", "lora_alpha"} and cfg.lora_r == 16
    cls = regs.models.get("lora-r16")
    assert cls.variant == "lora-r16" and cls.config.__func__  # an HMVLMModel: config from the preset + delta
    assert regs.models.meta("lora-r16") == {"description": "plain LoRA r=16", "trainer": "model"}


def _readme_blocks() -> list[str]:
    """The Python code blocks of README's "Add a variant" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Add a variant", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]


def test_readme_add_a_variant_in_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    # README: one entry in VARIANTS, exactly as printed (added for the test's duration only)
    entry = eval(_readme_blocks()[0].strip().rstrip(","), vars(V))  # noqa: S307 - our own README
    monkeypatch.setitem(V.VARIANTS, entry.name, entry)
    _check_lora_r16(load_registries())
    from hmvlm_bench.cli.main import _variants

    assert "lora-r16" in _variants() and _variants("lora") == ["lora", "lora-r16"]


def test_readme_add_a_variant_from_a_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    from hmvlm_bench.cli.main import app

    plugin = (PLUGIN_DIR / "lora_r16.py").read_text(encoding="utf-8")
    assert _readme_blocks()[1] in plugin  # the README's plugin is the fixture, verbatim

    # the plugin's entry goes away afterwards
    monkeypatch.setattr(V, "VARIANTS", dict(V.VARIANTS))
    monkeypatch.setattr(V, "_ADDED", set(V._ADDED))
    res = CliRunner().invoke(app, ["ls", "models", "--include-path", str(PLUGIN_DIR)])
    assert res.exit_code == 0, res.output
    assert any(line.split()[:1] == ["lora-r16"] and "plain LoRA r=16" in line for line in res.output.splitlines())
    _check_lora_r16(load_registries([PLUGIN_DIR]))  # loading it again is harmless
