"""A preset is one entry of `hmvlm_bench.presets.PRESETS`, and every component that sizes
itself per preset must know it: this fails when one of their tables lacks a registered
preset, or names one that is not registered (issue 16: adding a preset took edits in six
places that nothing checked)."""
from __future__ import annotations

import pytest

from hmvlm_bench.presets import PRESETS


def test_component_tables_name_the_registered_presets() -> None:
    from hmvlm_bench.evaluators import contrastive
    from reference_model.hmvlm import config as hmvlm_config
    from reference_model.tokenizer import config as tokenizer_config
    from tasks import forgetting

    registered = set(PRESETS)
    assert set(hmvlm_config.PRESETS) == registered
    assert set(hmvlm_config.PRESET_VALUES) == registered
    assert set(tokenizer_config.PRESETS) == registered
    assert set(contrastive._PRESETS) == registered
    assert set(forgetting.DEFAULT_LIMITS) == registered


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_component_resolves_every_preset(name: str) -> None:
    from hmvlm_bench.evaluators.contrastive import evaluator_config_for_preset
    from reference_model.hmvlm.config import PRESET_VALUES, VARIANT_DELTAS, HMVLMConfig, model_arg_overrides
    from reference_model.tokenizer.config import TokenizerConfig

    # a preset that loads its models from folders names them (never opened here)
    args = {"llm_path": "/models/llm", "clip_path": "/models/clip"} if PRESET_VALUES[name].get("llm") == "path" else {}
    for variant in VARIANT_DELTAS:
        cfg = HMVLMConfig.for_preset(name, variant, **model_arg_overrides(args))
        assert cfg.preset == name
    for variant in ("body-part", "pose", "whole-body", "whole-body-x5"):
        assert TokenizerConfig.for_preset(name, variant).preset == name
    assert evaluator_config_for_preset(name).preset == name
