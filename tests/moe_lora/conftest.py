"""Fixtures for the MoE-LoRA tests: a tiny random Llama built from a config (no hub, no files)."""
from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

import reference_model.moe_lora  # noqa: F401  (registers the tuner with peft)


def make_tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=128, max_position_embeddings=64,
    )
    return LlamaForCausalLM(cfg).eval()


@pytest.fixture
def llama_factory():
    """Call with a seed for an independent tiny Llama (same seed, same weights)."""
    return make_tiny_llama


@pytest.fixture
def tiny_llama() -> LlamaForCausalLM:
    return make_tiny_llama()


@pytest.fixture
def input_ids() -> torch.Tensor:
    return torch.randint(0, 128, (3, 9), generator=torch.Generator().manual_seed(1))
