"""Presets: `tiny` (tests, seconds), `mini` (the embedded default), `paper` (GPU, real data).

Only harness-wide knobs live here; each component (tokenizer, evaluator, model) maps the
preset name to its own sizes in its own config module.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        name="tiny",
        description="random tiny Llama, tiny tokenizer/evaluator, 320 synthetic motions (test split >= 32 for R-precision); seconds, for tests",
        synthetic_size=320, synthetic_seed=0, eval_limit=32, replications=5,
    ),
    "mini": Preset(
        name="mini",
        description="SmolLM2-135M-Instruct + MiniLM gate, synthetic data (4000 motions); the CPU default",
        synthetic_size=4000, synthetic_seed=0, eval_limit=64, replications=20,
    ),
    "paper": Preset(
        name="paper",
        description="Vicuna-7B / Gemma-2-2b-it, CLIP, HumanML3D/KIT by path; GPU, full test sets",
        synthetic_size=4000, synthetic_seed=0, eval_limit=None, replications=20,
        device="cuda", llm_dtype="bfloat16", dataset="humanml3d",
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise UserError(f"unknown preset '{name}'" + did_you_mean(name, PRESETS)
                        + f" (known: {', '.join(PRESETS)})") from None
