"""The fast training and decoding paths equal the plain ones on the tiny network:
labels-only head = full-logits loss, subset head = full head, bf16 within a stated
tolerance of fp32, length bucketing a seeded permutation, prefilled gate features."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reference_model.hmvlm.generation import RowPlan, StreamConstraint, decode
from reference_model.hmvlm.instruct_data import Sample
from reference_model.hmvlm.model import code_ids
from reference_model.hmvlm.training import bucket_order, cast_frozen_, collate, micro_step

MOTION = "<motion>" + "".join(f"<m{p}_{k}>" for k in (1, 2, 7) for p in ("t", "la", "ra", "ll", "rl")) + "</motion>"
SAMPLES = [Sample("t2m", "Generate a motion: a person walks forward and waves", MOTION),
           Sample("general", "Say hello.", "Hello there, how are you?", is_general=True),
           Sample("m2t", "Describe " + MOTION, "a person walks")]


def _full_logits_loss(net, batch, samples):
    """The pre-optimisation loss: head at every position, CE with ignore_index."""
    alpha = net.gate_weights([s.user for s in samples])
    with net.routed(alpha):
        logits = net.llm(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(),
                           batch["labels"][:, 1:].reshape(-1), ignore_index=-100)


def test_labels_only_head_equals_full_logits_loss(tiny_net):
    batch = collate(tiny_net.tokenizer, SAMPLES, 160)
    assert not bool(batch["attention_mask"].all())  # padding present: the masked path
    with torch.no_grad():
        fast = micro_step(tiny_net, batch, SAMPLES, None, "cpu")["lm"]
        ref = _full_logits_loss(tiny_net, batch, SAMPLES)
    assert torch.allclose(fast, ref, rtol=1e-5, atol=1e-6), (float(fast), float(ref))


def test_labels_only_head_gradients_match(tiny_factory):
    grads = []
    for fast in (True, False):
        net = tiny_factory()
        net.train()
        batch = collate(net.tokenizer, SAMPLES[:1], 160)  # one row: no padding, the unmasked path
        # a t2m sample: no general sample, so the gate term is a graph-connected zero
        loss = micro_step(net, batch, SAMPLES[:1], None, "cpu")["loss"] if fast else \
            _full_logits_loss(net, batch, SAMPLES[:1])
        g, = torch.autograd.grad(loss, [net.llm.get_input_embeddings().extra])
        grads.append(g)
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-7)


def test_subset_head_decodes_the_same_tokens(tiny_net):
    tok, m = tiny_net.tokenizer, tiny_net.motion
    rows = [tok("a person jumps", add_special_tokens=False)["input_ids"] + [m.start_marker],
            tok("someone runs in a circle", add_special_tokens=False)["input_ids"] + [m.start_marker]]

    def run(**kw):
        plans = [RowPlan(3, {}, 5), RowPlan(2, {0: m.starts[0] + 3}, 6)]
        proc = StreamConstraint(m.starts, m.size, plans, max(len(r) for r in rows), m.end_marker, 0)
        with torch.no_grad(), tiny_net.routed(torch.full((2, 5), 0.2)):
            return decode(tiny_net.llm, rows, 16, proc, 0, seeds=[5, 6], top_k=kw.pop("top_k"), **kw)

    for top_k in (0, 20):  # greedy and seeded sampling
        assert run(top_k=top_k, allowed_ids=code_ids(m)) == run(top_k=top_k)


def test_bf16_frozen_weights_agree_with_fp32(tiny_factory):
    """bf16 base weights (the path taken on CPUs with native bf16) against fp32: the loss
    agrees to 2% relative on the tiny model (bf16 has an 8-bit mantissa)."""
    losses = []
    for dtype in (torch.float32, torch.bfloat16):
        net = tiny_factory()
        if dtype != torch.float32:
            assert cast_frozen_(net.llm, dtype) > 0
            assert all(p.dtype == torch.float32 for p in net.llm.parameters() if p.requires_grad)
        batch = collate(net.tokenizer, SAMPLES, 160)
        with torch.no_grad():
            losses.append(float(micro_step(net, batch, SAMPLES, None, "cpu")["lm"]))
    assert abs(losses[1] - losses[0]) <= 0.02 * abs(losses[0]), losses


def test_bucket_order_is_seeded_permutation_of_similar_lengths():
    lengths = [5, 100, 7, 98, 6, 101, 8, 99] * 4
    order = bucket_order(lengths, batch_size=4, window_steps=8, seed=0)
    assert sorted(order) == list(range(len(lengths)))
    assert order == bucket_order(lengths, 4, 8, 0)
    assert order != bucket_order(lengths, 4, 8, 1)
    for s in range(0, len(order), 4):  # every step holds only short or only long samples
        step = [lengths[i] for i in order[s:s + 4]]
        assert max(step) - min(step) <= 3, step


def test_gate_prefill_gives_the_same_weights(tiny_factory):
    net = tiny_factory()
    texts = ["a person walks", "tell me about bread", "a person walks"]
    before = net.gate_weights(texts)
    net.gate.prefill(texts)
    after = net.gate_weights(texts)
    assert torch.allclose(before, after, atol=1e-6)
    net.gate.clear_features()


@pytest.mark.parametrize("requested,native,expect", [("auto", False, torch.float32), ("auto", True, torch.bfloat16),
                                                     ("float32", True, torch.float32)])
def test_precision_resolution(monkeypatch, requested, native, expect):
    import hmvlm_bench.precision as P

    monkeypatch.setattr(P, "native_bf16", lambda device: native)
    choice = P.resolve_precision(requested, "cpu")
    assert choice.dtype == expect and choice.to_dict()["requested"] == requested


def test_precision_rejects_unknown():
    from hmvlm_bench.errors import UserError
    from hmvlm_bench.precision import resolve_precision

    with pytest.raises(UserError, match="unknown precision"):
        resolve_precision("fp8", "cpu")
