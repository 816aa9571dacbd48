"""Public model configs, stated once: the base LLMs' shapes (their `config.json`), used where
weights are random at real shapes (the throughput suites, the `paper` smoke runs)."""
from __future__ import annotations

from typing import Any

# HuggingFaceTB/SmolLM2-135M(-Instruct) config.json
SMOLLM2_135M: dict[str, Any] = dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                    num_attention_heads=9, num_key_value_heads=3, vocab_size=49152,
                                    tie_word_embeddings=True)
# meta-llama/Llama-2-7b-hf config.json (= lmsys/vicuna-7b-v1.5 config.json)
LLAMA2_7B: dict[str, Any] = dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                                 num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096,
                                 rms_norm_eps=1e-5, vocab_size=32000, tie_word_embeddings=False)

__all__ = ["SMOLLM2_135M", "LLAMA2_7B"]
