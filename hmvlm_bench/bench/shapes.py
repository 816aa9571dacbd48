"""Model shapes the throughput suites run at. Throughput depends on shapes, not weights, so
where no checkpoint is given the suites use random weights at real shapes (and say so)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from hmvlm_bench.errors import UserError
from hmvlm_bench.model_shapes import LLAMA2_7B, SMOLLM2_135M

# The public configs (hmvlm_bench.model_shapes), the fields the suites have always built and
# recorded with (LlamaConfig defaults for the rest; throughput does not depend on them).
_FIELDS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
           "vocab_size", "tie_word_embeddings")
_SMOLLM2_135M = {k: SMOLLM2_135M[k] for k in _FIELDS}
_LLAMA2_7B = {k: LLAMA2_7B[k] for k in _FIELDS}
_TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=4, vocab_size=512, tie_word_embeddings=True)

PROMPT_TOKENS = 84  # HMVLM latency protocol: 84 input tokens, batch 1, no KV cache, gating included


@dataclass(frozen=True)
class BenchShapes:
    """A named LLM shape plus the sizes each suite uses at it."""

    name: str
    llama: dict[str, Any]
    weights: str  # "smollm2" (real SmolLM2-135M weights when available) | "random"
    dtype: str  # "float32" | "bfloat16"
    tokenizer_preset: str  # reference tokenizer preset (tiny | mini | paper)
    new_tokens: int  # generated tokens per request in the generation suite
    protocol_new_tokens: int  # generated tokens in the paper latency protocol (no KV cache)
    layer_tokens: int = PROMPT_TOKENS
    layer_batch: int = 4
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def hidden(self) -> int:
        return int(self.llama["hidden_size"])

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "llama": dict(self.llama), "weights": self.weights, "dtype": self.dtype,
                "tokenizer_preset": self.tokenizer_preset, "new_tokens": self.new_tokens,
                "protocol_new_tokens": self.protocol_new_tokens, "layer_tokens": self.layer_tokens,
                "layer_batch": self.layer_batch}


SHAPES = ("mini", "llama-7b")  # user-facing; "tiny" is internal (tests)


def resolve_shapes(name: str, device: str, quick: bool) -> BenchShapes:
    """The shapes for `name` on `device`; refuses llama-7b on CPU unless quick (with a warning)."""
    cuda = str(device).startswith("cuda")
    if name == "tiny":
        return BenchShapes("tiny", dict(_TINY), "random", "float32", "tiny", new_tokens=4, protocol_new_tokens=2,
                           layer_tokens=16, layer_batch=2)
    if name == "mini":
        return BenchShapes("mini", dict(_SMOLLM2_135M), "smollm2", "float32", "mini",
                           new_tokens=8 if quick else 32, protocol_new_tokens=4 if quick else 16)
    if name == "llama-7b":
        if not cuda:
            if not quick:
                raise UserError("--shapes llama-7b needs --device cuda (a 7B model on CPU takes hours); "
                                "use --shapes mini, or add --quick for a CPU smoke run")
            warnings.warn("llama-7b on CPU with --quick: very slow (minutes per token at batch 1), "
                          "expect a long run and meaningless throughput", stacklevel=2)
        return BenchShapes("llama-7b", dict(_LLAMA2_7B), "random", "bfloat16" if cuda else "float32", "paper",
                           new_tokens=8 if quick else 64, protocol_new_tokens=4 if quick else 16,
                           notes=("random weights at Llama-2-7B shapes (Vicuna-7B has the same shapes)",))
    raise UserError(f"unknown shapes '{name}' (known: {', '.join(SHAPES)})")
