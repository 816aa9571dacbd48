"""LMView records where the gate sends the prompts it scores (forgetting's gate analysis,
paper Table 3), checked on the real tiny HMVLM network (random tiny Llama, MoE-LoRA with
randomised experts, hashing-encoder gate) through the lm-eval scoring path that the
forgetting task drives."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from hmvlm_bench.assets import tiny_llama
from hmvlm_bench.lm_eval_adapter import HmvlmLM
from reference_model.hmvlm.model import LMView

# general-language prompts and one motion prompt; scored with batch size 3, so the rows
# fall into unequal batches (a per-batch mean would differ from the per-row mean)
GENERAL = ["Question: What is the capital of France?\nAnswer:", "The weather today is",
           "Write a short poem about the sea."]
MOTION = "Generate a motion: a person walks forward and waves"
MOTION_WORD = "walks"  # the one word the hand-set gate keys on
LOGIT_GAP = 40.0  # softmax(40 vs 0) rounds to exactly 1 vs 0 in float32


@dataclass
class _Req:
    args: tuple


def _view(net) -> LMView:
    return LMView(net.llm, net.tokenizer, net)  # as HMVLMModel.lm_backend builds it


def _score(view: LMView, contexts: list[str]) -> None:
    HmvlmLM(backend=view, batch_size=3).loglikelihood([_Req((c, " yes")) for c in contexts], disable_tqdm=True)


def _route_general_to_zero_expert(net) -> None:
    """Hand-set gate MLP: a prompt with MOTION_WORD goes to expert 1, any other to the zero
    expert. Hidden unit 0 reads MOTION_WORD's signed hashing bucket (ReLU: > 0 only when the
    word is there); the zero expert's bias wins unless that unit fires."""
    enc, mlp = net.gate.encoder, net.gate.mlp
    bucket, sign = enc._bucket(MOTION_WORD)
    with torch.no_grad():
        for p in mlp.parameters():
            p.zero_()
        mlp[0].weight[0, bucket] = sign * 1000.0
        mlp[2].bias[0] = LOGIT_GAP
        mlp[2].weight[1, 0] = 1.0
    # the hand derivation assumes no general-prompt word shares MOTION_WORD's bucket
    assert enc.encode(GENERAL)[:, bucket].abs().max() == 0
    assert enc.encode([MOTION])[0, bucket] * sign > 0


def test_mean_gate_is_the_mean_of_every_routed_row(tiny_net) -> None:
    view = _view(tiny_net)
    assert view.mean_gate() is None  # nothing routed yet
    contexts = GENERAL + [MOTION]
    _score(view, contexts)
    with torch.no_grad():
        rows = tiny_net.gate_weights(contexts).double()
    assert view.gate_rows == len(contexts)
    assert view.mean_gate() == pytest.approx(rows.mean(0).tolist(), abs=2e-6)
    # not a trivial case: the random gate's rows differ, so weighting batches or dropping
    # rows would give another mean
    assert (rows - rows.mean(0)).abs().max() > 1e-3


def test_general_prompts_on_the_zero_expert_reproduce_the_base_llm(tiny_factory) -> None:
    net = tiny_factory()  # own copy: the gate is overwritten
    _route_general_to_zero_expert(net)
    view = _view(net)
    _score(view, GENERAL + [MOTION])
    # hand computation: three rows [1,0,0,0,0] and one row [0,1,0,0,0]
    assert view.mean_gate() == pytest.approx([0.75, 0.25, 0.0, 0.0, 0.0], abs=1e-6)

    base, tok = tiny_llama(seed=net.cfg.seed)
    v = len(tok)
    for prompt in GENERAL + [MOTION]:
        ids = torch.tensor([tok(prompt)["input_ids"]])
        with torch.no_grad(), view.route([prompt]):
            got = net.llm(input_ids=ids).logits[..., :v]
        ref = base(input_ids=ids).logits
        if prompt in GENERAL:
            assert torch.allclose(got, ref, atol=1e-5, rtol=0), prompt
        else:  # expert 1 carries randomised LoRA weights: the motion prompt moves away
            assert (got - ref).abs().max() > 1e-3


def test_models_without_a_gate_report_none(tiny_factory) -> None:
    view = _view(tiny_factory("lora"))
    _score(view, GENERAL[:1])
    assert view.mean_gate() is None and view.gate_rows == 0
