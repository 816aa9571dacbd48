"""The shipped `mini` checkpoints are found by key: rebuilding each key from the code
(presets, variants, recipes, tokenizer and evaluator configs) gives the folder name under
`checkpoints/`. A refactor that moves a table or a default and changes a key fails here
before a fresh clone silently retrains."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hmvlm_bench.artifacts import MANIFEST, ArtifactStore
from hmvlm_bench.context import DataCatalog
from hmvlm_bench.presets import get_preset

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints"


def _shipped(kind: str) -> set[str]:
    folder = SHIPPED / kind
    return {p.name for p in folder.iterdir() if (p / MANIFEST).is_file()} if folder.is_dir() else set()


@pytest.fixture(scope="module")
def data_fp(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = ArtifactStore(tmp_path_factory.mktemp("cache"))
    return DataCatalog(get_preset("mini"), store, {}).fingerprint("synthetic")


def test_manifests_name_their_folder() -> None:
    for manifest in SHIPPED.glob(f"*/*/{MANIFEST}"):
        m = json.loads(manifest.read_text())
        assert m["key"] == manifest.parent.name == ArtifactStore.key(m["config"]), manifest


def test_tokenizer_and_evaluator_keys(data_fp: str) -> None:
    from hmvlm_bench.evaluators.contrastive import evaluator_config_for_preset
    from reference_model.hmvlm.training import tokenizer_key

    tokenizers = {ArtifactStore.key(tokenizer_key("mini", v, data_fp)) for v in ("body-part", "pose")}
    assert tokenizers == _shipped("tokenizer")
    evaluator = ArtifactStore.key({"evaluator": evaluator_config_for_preset("mini").to_dict(), "dataset": data_fp})
    assert {evaluator} == _shipped("evaluator")


def test_model_keys(data_fp: str) -> None:
    from hmvlm_bench.assets import smollm2_fingerprint

    try:  # the LLM's identity: the GGUF's hash (cache record or the installed package)
        smollm2_fingerprint()
    except Exception as exc:  # noqa: BLE001 - assets not installed
        pytest.skip(f"SmolLM2 assets unavailable: {exc}")
    from reference_model.hmvlm.config import HMVLMConfig, model_arg_overrides
    from reference_model.hmvlm.training import model_artifact_config

    def key(variant: str, **args: str) -> str:
        cfg = HMVLMConfig.for_preset("mini", variant, **model_arg_overrides(args))
        return ArtifactStore.key(model_artifact_config(cfg, data_fp))

    expected = {"10c6982c63ffff3f": key("hmvlm"), "8b1179d55b4200f3": key("lora"),
                "3e795eab5f0e64b2": key("hmvlm", recipe="long"), "144515fa295b1f3b": key("lora", recipe="long")}
    assert expected == {k: k for k in expected}
    assert set(expected) == _shipped("model")


def test_base_llm_suite_scores_key() -> None:
    """The base LLM's forgetting-suite scores are keyed by the task config, whose suite
    hashes cover the suite files and the scoring code (hmvlm_utils.py and the forgetting
    metrics module, by file name and bytes): moving that module must keep both."""
    from types import SimpleNamespace

    from hmvlm_bench.plugins import load_registries

    task = load_registries().tasks.get("forgetting")()
    ctx = SimpleNamespace(limit=None, preset=get_preset("mini"), seed=0)
    key = {"base": {"model": "base", "preset": "mini"}, "task": task.config(ctx), "seed": 0}
    assert {ArtifactStore.key(key)} == _shipped("lm_base_scores")
