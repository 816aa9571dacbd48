"""Presets: `tiny` (tests, seconds), `mini` (the embedded default), `paper` (GPU, real data).

A preset is one `Preset` entry in `PRESETS`, holding the harness-wide knobs. Each
component that sizes itself per preset (HMVLM model, tokenizer, evaluator, forgetting
limit, base LLM) declares its values once, next to its code, as a `PresetTable`
keyed by preset name; every table is recorded in `TABLES`, and `preset_table_problems()`
names a registered preset a table lacks (tests/core/test_preset_tables.py fails on it).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, TypeVar

from hmvlm_bench.errors import UserError, did_you_mean


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    synthetic_size: int  # motions in the generated default dataset
    synthetic_seed: int
    eval_limit: int | None  # test samples per task (None: the whole split)
    replications: int  # metric replications (HumanML3D protocol: 20)
    device: str = "cpu"
    llm_dtype: str = "float32"
    dataset: str | None = None  # default dataset for motion tasks (None: synthetic)
    # a few words for the `--preset` help; not a setting: kept out of repr, equality and
    # to_dict() (results record the preset's settings, byte-identical with or without it)
    summary: str = field(default="", repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        del d["summary"]
        return d


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        name="tiny",
        description="random tiny Llama, tiny tokenizer/evaluator, 320 synthetic motions (test split >= 32 for R-precision); seconds, for tests",
        synthetic_size=320, synthetic_seed=0, eval_limit=32, replications=5,
        summary="tests, seconds",
    ),
    "mini": Preset(
        name="mini",
        description="SmolLM2-135M-Instruct + MiniLM gate, synthetic data (4000 motions); the CPU default",
        synthetic_size=4000, synthetic_seed=0, eval_limit=64, replications=20,
        summary="CPU default",
    ),
    "paper": Preset(
        name="paper",
        description="Vicuna-7B / Gemma-2-2b-it, CLIP, HumanML3D/KIT by path; GPU, full test sets",
        synthetic_size=4000, synthetic_seed=0, eval_limit=None, replications=20,
        device="cuda", llm_dtype="bfloat16", dataset="humanml3d", summary="GPU, real data",
    ),
}


def preset_help(summaries: bool = False) -> str:
    """The registered presets for a `--preset` help: 'tiny | mini | paper', or with
    `summaries` 'tiny (tests, seconds) | ...' (a preset without a summary: its name)."""
    return " | ".join(f"{p.name} ({p.summary})" if summaries and p.summary else p.name
                      for p in PRESETS.values())


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise UserError(f"unknown preset '{name}'" + did_you_mean(name, PRESETS)
                        + f" (known: {', '.join(PRESETS)})") from None


# ------------------------------------------------------------------ per-component tables
V = TypeVar("V")

# component -> its table, filled as the modules declaring them are imported
TABLES: dict[str, "PresetTable[Any]"] = {}


class MissingPresetValue(UserError, KeyError):
    """A component has no value for a preset (a UserError; a KeyError for `Mapping.get`)."""

    __str__ = Exception.__str__


class PresetTable(dict[str, V]):
    """One component's values per preset, declared once next to the component:
    `SIZES = PresetTable("tokenizer", {"tiny": ..., "mini": ..., "paper": ...})`.
    `table[preset]` takes a preset name or a `Preset` and, when the preset has no entry,
    raises one line naming the component; `.get` keeps dict semantics."""

    def __init__(self, component: str, values: Mapping[str, V]) -> None:
        super().__init__(values)
        self.component = component
        TABLES[component] = self

    def __getitem__(self, preset: "str | Preset") -> V:
        return super().__getitem__(preset.name if isinstance(preset, Preset) else preset)

    def __missing__(self, name: str) -> V:
        raise MissingPresetValue(f"the {self.component} has no value for preset '{name}'"
                                 + did_you_mean(name, self) + f" (it has: {', '.join(self)})")


def preset_table_problems(tables: Mapping[str, PresetTable[Any]] | None = None) -> list[str]:
    """One line per table that lacks a registered preset or names an unregistered one."""
    out = []
    for component, table in sorted((TABLES if tables is None else tables).items()):
        missing = [p for p in PRESETS if p not in table]
        extra = [p for p in table if p not in PRESETS]
        if missing:
            out.append(f"{component}: no value for preset(s) {', '.join(missing)}")
        if extra:
            out.append(f"{component}: values for unregistered preset(s) {', '.join(extra)}")
    return out
