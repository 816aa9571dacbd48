"""MoE-LoRA tuner: zero expert, batched == loop, merge, peft save/load, config checks."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from peft import PeftModel, get_peft_model
from safetensors.torch import load_file
from torch import nn

from reference_model.moe_lora import (
    ExpertLoopLinear, GateState, GateWeightsError, MoELoraConfig, MoELoraConfigError, MoELoraLinear,
    MoELoraModel, expert_loop_forward,
)

N_LINEARS_TINY = 2 * 7  # q,k,v,o,gate,up,down per layer; lm_head is excluded by all-linear


def _peft(model, **kw):
    kw.setdefault("init_weights", False)  # non-zero B, so a broken zero expert would show
    return get_peft_model(model, MoELoraConfig(**kw))


def _layer(in_f=16, out_f=12, **kw) -> MoELoraLinear:
    torch.manual_seed(3)
    kw.setdefault("init_weights", False)
    return MoELoraLinear(nn.Linear(in_f, out_f), "default", MoELoraConfig(**kw), GateState())


def test_zero_expert_preserves_base(tiny_llama, input_ids):
    with torch.no_grad():
        base_logits = tiny_llama(input_ids).logits.clone()
    pm = _peft(tiny_llama)
    pm.set_gate_weights(torch.tensor([[1.0, 0, 0, 0, 0]] * 3))
    with torch.no_grad():
        logits = pm(input_ids).logits
    assert torch.allclose(logits, base_logits, atol=1e-6, rtol=0)
    # The same adapter with weight on trainable experts must move the logits (guards a dead adapter).
    pm.set_gate_weights(torch.tensor([[0.2, 0.2, 0.2, 0.2, 0.2]] * 3))
    with torch.no_grad():
        assert (pm(input_ids).logits - base_logits).abs().max() > 1e-3


def test_zero_expert_has_no_params(tiny_llama, llama_factory):
    pm = _peft(tiny_llama, num_experts=5, r=8)
    layers = [m for m in pm.modules() if isinstance(m, MoELoraLinear)]
    assert len(layers) == N_LINEARS_TINY
    for layer in layers:
        assert layer.moe_lora_A["default"].shape == (4 * 8, layer.in_features)
        assert layer.moe_lora_B["default"].shape == (layer.out_features, 4 * 8)
    expected = sum(4 * 8 * (m.in_features + m.out_features) for m in layers)
    trainable = {n: p for n, p in pm.named_parameters() if p.requires_grad}
    assert sum(p.numel() for p in trainable.values()) == expected
    assert all(".moe_lora_A." in n or ".moe_lora_B." in n for n in trainable)
    # Without the zero expert every expert owns parameters.
    no_zero = _peft(llama_factory(), num_experts=5, zero_expert=False)
    layer = next(m for m in no_zero.modules() if isinstance(m, MoELoraLinear))
    assert layer.moe_lora_A["default"].shape[0] == 5 * 8


def test_default_init_is_identity(tiny_llama, input_ids):
    with torch.no_grad():
        base_logits = tiny_llama(input_ids).logits.clone()
    pm = get_peft_model(tiny_llama, MoELoraConfig())
    pm.set_gate_weights(torch.softmax(torch.randn(3, 5), -1))
    with torch.no_grad():
        assert torch.equal(pm(input_ids).logits, base_logits)  # B = 0 at init, as LoRA


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 4), tokens=st.integers(1, 6), num_experts=st.integers(2, 6),
    r=st.integers(1, 5), zero_expert=st.booleans(), seed=st.integers(0, 10_000),
)
def test_batched_equals_loop(batch, tokens, num_experts, r, zero_expert, seed):
    layer = _layer(num_experts=num_experts, r=r, zero_expert=zero_expert, lora_alpha=2.0 * r)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, tokens, 16, generator=g)
    alpha = torch.softmax(torch.randn(batch, num_experts, generator=g), -1)
    layer.gate_state.set(alpha)
    out = layer(x)
    assert torch.allclose(out, expert_loop_forward(layer, x, alpha), atol=1e-5, rtol=1e-5)
    assert torch.allclose(out, ExpertLoopLinear(layer)(x), atol=1e-5, rtol=1e-5)


def test_batched_gradients_equal_loop():
    layer = _layer(num_experts=5, r=4)
    x = torch.randn(3, 5, 16)
    alpha = torch.softmax(torch.randn(3, 5), -1).requires_grad_(True)
    layer.gate_state.set(alpha)
    layer(x).square().sum().backward()
    g_alpha, g_a = alpha.grad.clone(), layer.moe_lora_A["default"].grad.clone()
    alpha.grad = None
    layer.moe_lora_A["default"].grad = None
    expert_loop_forward(layer, x, alpha).square().sum().backward()
    assert torch.allclose(g_alpha, alpha.grad, atol=1e-5)
    assert torch.allclose(g_a, layer.moe_lora_A["default"].grad, atol=1e-5)
    assert g_alpha[:, 0].abs().max() == 0  # the zero expert's weight has no effect on the output


def test_routing_is_per_sample():
    layer = _layer()
    x = torch.randn(2, 4, 16)
    alpha = torch.softmax(torch.randn(2, 5), -1)
    layer.gate_state.set(alpha)
    first = layer(x)
    alpha2 = alpha.clone()
    alpha2[1] = torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0])
    layer.gate_state.set(alpha2)
    second = layer(x)
    assert torch.equal(first[0], second[0])
    assert not torch.allclose(first[1], second[1])


def test_gate_weights_errors():
    layer = _layer()
    with pytest.raises(GateWeightsError, match="not set"):
        layer(torch.randn(2, 3, 16))
    layer.gate_state.set(torch.full((3, 5), 0.2))
    with pytest.raises(GateWeightsError, match="3 rows"):
        layer(torch.randn(2, 3, 16))
    layer.gate_state.set(torch.full((2, 4), 0.25))
    with pytest.raises(GateWeightsError, match="4 experts"):
        layer(torch.randn(2, 3, 16))
    layer.gate_state.set(torch.full((5,), 0.2))  # one vector broadcast over the batch is fine
    assert layer(torch.randn(2, 3, 16)).shape == (2, 3, 12)


def test_gate_state_is_per_model_instance(input_ids, llama_factory):
    pm1, pm2 = _peft(llama_factory(0)), _peft(llama_factory(0))
    pm1.set_gate_weights(torch.full((5,), 0.2))
    assert pm2.base_model.gate_state.alpha is None
    with pytest.raises(GateWeightsError):
        pm2(input_ids)


def test_gradient_reaches_gate_weights(tiny_llama, input_ids):
    pm = _peft(tiny_llama)
    alpha = torch.softmax(torch.randn(3, 5), -1).requires_grad_(True)
    with pm.gate_weights(alpha):
        pm(input_ids, labels=input_ids).loss.backward()
    assert pm.base_model.gate_state.alpha is None  # the context manager clears
    assert alpha.grad[:, 1:].abs().sum() > 0
    assert torch.all(alpha.grad[:, 0] == 0)


def test_merge_equals_unmerged(tiny_llama):
    pm = _peft(tiny_llama)
    ids = torch.randint(0, 128, (1, 11), generator=torch.Generator().manual_seed(5))
    layers = [m for m in pm.modules() if isinstance(m, MoELoraLinear)]
    originals = [layer.get_base_layer().weight.detach().clone() for layer in layers]
    alpha = torch.tensor([0.1, 0.4, 0.2, 0.2, 0.1])
    pm.set_gate_weights(alpha)
    with torch.no_grad():
        unmerged = pm(ids).logits
        for alpha_other in (torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0]), alpha):  # 2nd request must not stack
            pm.merge_for_request(alpha_other)
        assert all(layer.merged for layer in layers)
        pm.set_gate_weights(None)  # merged forward must not need the gate
        merged = pm(ids).logits
    assert torch.allclose(merged, unmerged, atol=1e-5, rtol=0)
    assert (merged - unmerged).abs().max() < 1e-5
    pm.unmerge_request()
    assert not any(layer.merged for layer in layers)
    for layer, w in zip(layers, originals):
        assert torch.equal(layer.get_base_layer().weight, w)  # exact, not within rounding


def test_peft_merge_uses_single_gate_row(tiny_llama):
    pm = _peft(tiny_llama)
    pm.set_gate_weights(torch.full((2, 5), 0.2))
    with pytest.raises(GateWeightsError, match="one gate vector"):
        pm.merge_adapter()
    pm.set_gate_weights(torch.full((5,), 0.2))
    pm.merge_adapter()
    pm.unmerge_adapter()


def test_disable_adapter_gives_base(tiny_llama, input_ids):
    with torch.no_grad():
        base_logits = tiny_llama(input_ids).logits.clone()
    pm = _peft(tiny_llama)
    pm.set_gate_weights(torch.full((5,), 0.2))
    with torch.no_grad(), pm.disable_adapter():
        assert torch.allclose(pm(input_ids).logits, base_logits, atol=1e-6)


def test_adapter_roundtrip_peft(tmp_path, input_ids, llama_factory):
    pm = _peft(llama_factory(0), num_experts=4, r=4, lora_alpha=16)
    alpha = torch.softmax(torch.randn(3, 4), -1)
    pm.set_gate_weights(alpha)
    with torch.no_grad():
        expected = pm(input_ids).logits
    pm.save_pretrained(tmp_path)
    files = set(os.listdir(tmp_path))
    assert "adapter_model.safetensors" in files and not any(f.endswith(".bin") for f in files)
    cfg = json.loads((tmp_path / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "MOE_LORA" and cfg["num_experts"] == 4 and cfg["zero_expert"] is True
    saved = load_file(tmp_path / "adapter_model.safetensors")
    assert len(saved) == 2 * N_LINEARS_TINY and all("moe_lora_" in k for k in saved)
    reloaded = PeftModel.from_pretrained(llama_factory(0), tmp_path)
    assert isinstance(reloaded.base_model, MoELoraModel)
    reloaded.set_gate_weights(alpha)
    with torch.no_grad():
        assert torch.equal(reloaded(input_ids).logits, expected)


def test_import_registers_for_fresh_process(tmp_path, llama_factory):
    pm = _peft(llama_factory(0))
    pm.save_pretrained(tmp_path)
    code = (
        "import sys, reference_model.moe_lora as m; from peft import PeftConfig; "
        f"c = PeftConfig.from_pretrained({str(tmp_path)!r}); "
        "assert isinstance(c, m.MoELoraConfig) and c.num_experts == 5, c; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.getcwd(), timeout=120)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_experts": 1}, "no trainable expert"),
        ({"num_experts": 0, "zero_expert": False}, "no trainable expert"),
        ({"num_experts": 5.0}, "must be an int"),
        ({"num_experts": True}, "must be an int"),
        ({"r": 0}, "r must be"),
        ({"lora_dropout": 1.0}, "lora_dropout"),
        ({"lora_alpha": 0}, "lora_alpha"),
        ({"target_modules": "q_proj", "layers_to_transform": [0]}, "layers_to_transform"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(MoELoraConfigError, match=match):
        MoELoraConfig(**kwargs)


def test_config_counts():
    assert MoELoraConfig(num_experts=1, zero_expert=False).num_trainable_experts == 1
    c = MoELoraConfig()
    assert (c.num_experts, c.r, c.zero_expert, c.num_trainable_experts, c.target_modules) == (5, 8, True, 4, "all-linear")
    assert issubclass(MoELoraConfigError, ValueError)
