"""Templates: general training prompts are disjoint from the lm-eval evaluation suites;
chat formatting splits prompt/answer consistently; configs validate."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hmvlm_bench.errors import UserError
from reference_model.hmvlm import templates as T
from reference_model.hmvlm.config import VARIANT_DELTAS, HMVLMConfig

LM_EVAL_DIR = Path(__file__).resolve().parents[2] / "tasks" / "lm_eval"


def _eval_texts() -> list[str]:
    texts = []
    for path in sorted(LM_EVAL_DIR.glob("data/*.json*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts += [str(v) for v in row.values() if isinstance(v, (str, list))]
    return texts


def _shingles(text: str, n: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def test_general_prompts_disjoint_from_eval_suites():
    texts = _eval_texts()
    if not texts:
        pytest.skip("no lm-eval data files present")
    ours = T.all_general_prompts()
    assert len(ours) == len(set(ours)) >= 96
    blob = "\n".join(texts).lower()
    eval_shingles = set().union(*(_shingles(t) for t in texts))
    for prompt in ours:
        assert prompt.lower() not in blob, prompt
        assert not (_shingles(prompt) & eval_shingles), prompt


def test_general_prompts_deterministic():
    assert T.general_prompts(20, seed=1) == T.general_prompts(20, seed=1)
    assert T.general_prompts(20, seed=1) != T.general_prompts(20, seed=2)


def test_t2m_variants_and_chat_split():
    from hmvlm_bench.assets import load_smollm2_tokenizer

    tok = load_smollm2_tokenizer()
    first = T.t2m_prompt("a person waves.", "first_token", 0, motion="<motion><mt_1></motion>")
    assert "a person waves" in first and "<mt_1>" in first
    assert all(T.t2m_prompt("x", "text", k) for k in range(10))
    prompt = T.chat_prompt(tok, "hi")
    suffix = T.chat_answer_suffix(tok, "hi", "ANSWER")
    assert suffix.startswith("ANSWER") and T.end_of_turn(tok) in suffix
    assert prompt.endswith("assistant\n")


@pytest.mark.parametrize("variant", sorted(VARIANT_DELTAS))
def test_variant_configs_are_deltas(variant):
    base = HMVLMConfig.for_preset("mini", "hmvlm").to_dict()
    cfg = HMVLMConfig.for_preset("mini", variant).to_dict()
    changed = {k for k in base if base[k] != cfg[k]} - {"variant"}
    assert changed == set(VARIANT_DELTAS[variant])
    assert HMVLMConfig.from_dict(cfg).to_dict() == cfg


def test_config_validation():
    with pytest.raises(UserError):
        HMVLMConfig.for_preset("mini", "nope")
    with pytest.raises(UserError):
        HMVLMConfig.for_preset("paper", "hmvlm")  # llm='path' needs llm_path
    cfg = HMVLMConfig.for_preset("paper", "hmvlm", llm_path="/x", gate_encoder_path="/c", vision_path="/c")
    assert (cfg.batch_size, cfg.micro_batch_size, cfg.lr, cfg.grad_accum) == (32, 2, 3e-3, 16)
