"""Model args -> HMVLM config overrides (one mapping for evaluation and training)."""
from __future__ import annotations


def test_train_seed_model_arg_is_a_config_override() -> None:
    import pytest

    from hmvlm_bench.errors import UserError
    from reference_model.hmvlm.config import HMVLMConfig, model_arg_overrides
    from reference_model.hmvlm.training import model_artifact_config

    assert model_arg_overrides({"train_seed": "3"}) == {"seed": 3}
    assert model_arg_overrides({}) == {}
    with pytest.raises(UserError, match="train_seed"):
        model_arg_overrides({"train_seed": "x"})
    a = HMVLMConfig.for_preset("mini", "hmvlm")
    b = HMVLMConfig.for_preset("mini", "hmvlm", **model_arg_overrides({"train_seed": "1"}))
    assert model_artifact_config(a, "d") != model_artifact_config(b, "d")  # another checkpoint


def test_recipe_model_arg_is_another_checkpoint() -> None:
    import pytest

    from hmvlm_bench.errors import UserError
    from reference_model.hmvlm.config import RECIPES, HMVLMConfig, model_arg_overrides

    base = HMVLMConfig.for_preset("mini", "hmvlm")
    long = HMVLMConfig.for_preset("mini", "hmvlm", **model_arg_overrides({"recipe": "long"}))
    assert (base.steps, long.steps) == (200, RECIPES["long"]["steps"])
    assert long.max_motion_frames == 196 and long.bucket_window > 0 and long.to_dict() != base.to_dict()
    # `steps` given beside a recipe still wins (explicit over named)
    assert HMVLMConfig.for_preset("mini", "lora", **model_arg_overrides({"recipe": "long", "steps": "50"})).steps == 50
    with pytest.raises(UserError, match="did you mean 'long'"):
        model_arg_overrides({"recipe": "lnog"})
