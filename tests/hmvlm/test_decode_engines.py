"""Decode engines (issue 17): the preallocated-cache and static-cache engines give the eager
engine's tokens on the tiny preset, greedy and seeded sampling, for the base model (full-ft
network: no adapter), peft LoRA and MoE-LoRA (per-sample gate, and merged at batch 1)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from hmvlm_bench.contracts import MotionRequest
from reference_model.hmvlm.fast_decode import PreallocCache, constraint_table
from reference_model.hmvlm.generation import (RowPlan, StreamConstraint, SubsetHead, TextOnly, decode, left_pad,
                                              pick_top_k, sample_top_k)
from reference_model.hmvlm.model import generate_motions, pad_id, prompt_ids

from tests.hmvlm.conftest import build_tiny

TEXTS = ["a person walks forward", "someone jumps twice and waves", "a man kicks with the left leg",
         "turn around slowly", "run in a circle", "a person sits down"]


def _requests() -> list[MotionRequest]:
    # unequal lengths (left padding, rows finishing at different steps), two hint variants
    rng = np.random.default_rng(0)
    reqs = []
    for i, t in enumerate(TEXTS):
        variant = ("text", "first_token", "last_token")[i % 3]
        hint = rng.normal(size=(8, 263)).astype(np.float32) if variant != "text" else None
        reqs.append(MotionRequest(f"s{i}", "synthetic", t, 4 * (i + 2), variant=variant, seed=10 + i, hint=hint))
    return reqs


@pytest.fixture(scope="module", params=["hmvlm", "lora", "full-ft"])
def net(request):
    return build_tiny(request.param)


def _codes(net, engine: str, top_k, batch_size: int = 4) -> list:
    return [p.info["codes"] for p in generate_motions(net, _requests(), top_k=top_k, batch_size=batch_size,
                                                      engine=engine)]


@pytest.mark.parametrize("engine", ["prealloc", "static"])
@pytest.mark.parametrize("top_k", [0, None], ids=["greedy", "sampled"])
def test_engine_tokens_equal_eager(net, engine, top_k):
    assert _codes(net, engine, top_k) == _codes(net, "eager", top_k)


@pytest.mark.parametrize("engine", ["prealloc", "static"])
def test_engine_batch_one_sampled_equal(engine):
    # other batch boundaries, sampled: per-row generators, so a row's tokens do not depend on its batch
    net = build_tiny()
    assert _codes(net, engine, None, batch_size=1) == _codes(net, "eager", None, batch_size=1)


def test_sampling_differs_from_greedy(net):
    # the sampled comparison above is not greedy in disguise
    assert _codes(net, "prealloc", None) != _codes(net, "prealloc", 0)


@pytest.mark.parametrize("engine", ["prealloc", "static"])
def test_captions_equal_eager(engine):
    """Free text: full output head, TextOnly constraint, stop ids (rows end at different steps)."""
    net = build_tiny()
    users = [f"Describe the motion {i}." for i in range(4)]
    rows = [prompt_ids(net, u, None) for u in users]
    # stop on a few frequent ids of the random tiny model, so rows stop early and at different steps
    out = {}
    with torch.no_grad(), net.routed(net.gate_weights(users)):
        probe = decode(net.llm, rows, 12, TextOnly(net.vocab.base_vocab), pad_id(net))
        stops = sorted({r[3] for r in probe if len(r) > 3})
        for eng in ("eager", engine):
            out[eng] = decode(net.llm, rows, 12, TextOnly(net.vocab.base_vocab), pad_id(net), stop_ids=stops,
                              engine=eng)
    assert out[engine] == out["eager"]
    assert any(len(r) < 12 for r in out["eager"])  # some row did stop


def test_prealloc_logits_bit_identical():
    """The preallocated cache hands the attention the values DynamicCache would: same logits, bit for bit."""
    net = build_tiny()
    rows = [prompt_ids(net, u, net.motion.start_marker) for u in TEXTS[:3]]
    ids, mask, pos = left_pad(rows, pad_id(net))
    head = SubsetHead(net.llm, list(range(net.vocab.total)))
    with torch.no_grad(), net.routed(net.gate_weights(TEXTS[:3])):
        a, pa = head(input_ids=ids, attention_mask=mask, position_ids=pos)
        b, pb = head(input_ids=ids, attention_mask=mask, position_ids=pos,
                     past_key_values=PreallocCache.for_model(net.llm, ids.shape[1] + 4))
        assert torch.equal(a, b)
        nxt = a.argmax(-1)[:, None]
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
        pos = pos[:, -1:] + 1
        a2, _ = head(input_ids=nxt, attention_mask=mask, position_ids=pos, past_key_values=pa)
        b2, _ = head(input_ids=nxt, attention_mask=mask, position_ids=pos, past_key_values=pb)
    assert torch.equal(a2, b2)


def test_merged_batch1_equal():
    """Per-request merged MoE-LoRA (batch 1) under every engine gives the eager tokens."""
    net = build_tiny()
    req = _requests()[:2]
    ref = [p.info["codes"] for p in generate_motions(net, req, top_k=0, batch_size=1)]
    for eng in ("prealloc", "static"):
        assert [p.info["codes"] for p in generate_motions(net, req, top_k=0, batch_size=1, engine=eng)] == ref


def test_constraint_table_matches_processor():
    """The (lo, hi) id-range table allows exactly what StreamConstraint / TextOnly allow, at every position."""
    starts, size, end_id, pad = [10, 20, 30], 10, 40, 0
    plans = [RowPlan(2, {}, 0), RowPlan(3, {0: 12, 4: 25}, 1), RowPlan(1, {2: 33}, 2)]
    max_new = 12
    proc = StreamConstraint(starts, size, plans, 5, end_id, pad)
    lo, hi = constraint_table(proc, len(plans), max_new)
    ids = torch.arange(50)
    for t in range(max_new):
        allowed = torch.isfinite(proc(torch.zeros(3, 5 + t, dtype=torch.long), torch.zeros(3, 50)))
        assert torch.equal(allowed, (ids >= lo[:, t:t + 1]) & (ids < hi[:, t:t + 1])), t
    text = TextOnly(45)
    lo, hi = constraint_table(text, 2, 3)
    assert torch.equal(torch.isfinite(text(None, torch.zeros(2, 50))), (ids >= lo[:, :1]) & (ids < hi[:, :1]))


def test_pick_top_k_is_sample_top_k():
    scores = torch.randn(5, 40, generator=torch.Generator().manual_seed(0))
    scores[1, 5:] = float("-inf")  # fewer allowed than k
    gens = [torch.Generator().manual_seed(s) for s in range(5)]
    u = torch.stack([torch.rand((), generator=torch.Generator().manual_seed(s)) for s in range(5)])
    assert torch.equal(sample_top_k(scores, 8, 0.7, gens), pick_top_k(scores, 8, 0.7, u))


def test_unknown_engine_refused():
    net = build_tiny()
    with pytest.raises(ValueError, match="engine"):
        decode(net.llm, [[1, 2]], 2, TextOnly(net.vocab.base_vocab), 0, engine="warp")


def test_prealloc_cache_overflow_is_loud():
    net = build_tiny("full-ft")  # no adapter: the plain decoder
    cache = PreallocCache.for_model(net.llm, 3)
    with pytest.raises(RuntimeError, match="full"):
        with torch.no_grad():
            net.llm.model(input_ids=torch.tensor([[1, 2, 3, 4]]), past_key_values=cache, use_cache=True)
