"""A preset is one entry of `hmvlm_bench.presets.PRESETS`, and every component that sizes
itself per preset declares a `PresetTable` keyed by preset name: this fails when a table
lacks a registered preset or names one that is not registered (issue 16: adding a preset
took edits in six places that nothing checked), and runs README "Add a preset" as written."""
from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest

from hmvlm_bench import presets as P
from hmvlm_bench.presets import PRESETS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hmvlm_bench", "reference_model", "baselines", "tasks")
# the tables README "Add a preset" lists (a new one is found by `_declaring_modules` anyway)
KNOWN = {"HMVLM model config", "tokenizer config", "text-motion evaluator config",
         "forgetting suite limit", "base LLM"}


def _declaring_modules() -> list[str]:
    """Every module of the repository that declares a PresetTable."""
    out = []
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            if f.name != "presets.py" and re.search(r"\bPresetTable\(", f.read_text(encoding="utf-8")):
                out.append(".".join(f.relative_to(ROOT).with_suffix("").parts))
    return out


@pytest.fixture(scope="module")
def tables() -> dict[str, P.PresetTable]:
    for mod in _declaring_modules():
        importlib.import_module(mod)
    return dict(P.TABLES)


def test_every_table_names_exactly_the_registered_presets(tables) -> None:
    assert KNOWN <= set(tables), sorted(tables)
    assert P.preset_table_problems(tables) == []


def test_a_missing_value_fails_and_names_the_component(tables, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PRESETS, "small", dataclasses.replace(PRESETS["mini"], name="small"))
    problems = P.preset_table_problems(tables)
    assert sorted(problems) == sorted(f"{c}: no value for preset(s) small" for c in tables)
    with pytest.raises(P.MissingPresetValue, match="the tokenizer config has no value for preset 'small'"):
        tables["tokenizer config"][PRESETS["small"]]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_component_resolves_every_preset(name: str) -> None:
    _resolve_all(name)


def _resolve_all(name: str) -> None:
    from hmvlm_bench.evaluators.contrastive import evaluator_config_for_preset
    from hmvlm_bench.base_llm import BASE_LLMS, PATH
    from reference_model.hmvlm.config import HMVLMConfig, model_arg_overrides
    from reference_model.hmvlm.variants import variant_names
    from reference_model.tokenizer.config import VARIANTS as TOKENIZERS
    from reference_model.tokenizer.config import TokenizerConfig
    from tasks.forgetting import DEFAULT_LIMITS

    preset = P.get_preset(name)
    # a preset that loads its models from folders names them (never opened here)
    args = {"llm_path": "/models/llm", "clip_path": "/models/clip"} if BASE_LLMS[preset] == PATH else {}
    for variant in variant_names():
        assert HMVLMConfig.for_preset(name, variant, **model_arg_overrides(args)).preset == name
    for variant in TOKENIZERS:
        assert TokenizerConfig.for_preset(name, variant).preset == name
    assert evaluator_config_for_preset(name).preset == name
    assert name in DEFAULT_LIMITS and name in BASE_LLMS


# ------------------------------------------------------------------ README "Add a preset"
def _readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("### Add a preset", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]


def test_readme_add_a_preset(tables, monkeypatch: pytest.MonkeyPatch) -> None:
    section = _readme_section()
    entry = section.split("```python\n", 1)[1].split("```", 1)[0].strip().rstrip(",")
    key, _, expr = entry.partition(":")
    name = eval(key)  # noqa: S307 - our own README
    monkeypatch.setitem(PRESETS, name, eval(expr, vars(P)))  # noqa: S307
    assert P.preset_table_problems(tables)  # not yet complete: the test names every table
    rows = re.findall(r"^\| `([\w/]+\.py)` \| `(\w+)` \| `(.+)` \|$", section, re.M)
    assert len(rows) == len(tables), "README lists every table"
    for path, attr, row in rows:
        table = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), attr)
        row_key, _, value = row.partition(":")
        assert eval(row_key) == name  # noqa: S307
        monkeypatch.setitem(table, name, eval(value))  # noqa: S307
    assert P.preset_table_problems(tables) == []
    _resolve_all(name)
    from reference_model.hmvlm.config import HMVLMConfig

    assert HMVLMConfig.for_preset(name, "lora").steps == 100
