"""HMVLM network: zero expert = base LLM after vocabulary extension, text rows frozen,
constrained decoding always yields decodable motion, seeded determinism."""
from __future__ import annotations

import pytest
import torch

from hmvlm_bench.assets import tiny_llama
from reference_model.hmvlm.generation import RowPlan, StreamConstraint, decode
from reference_model.hmvlm.instruct_data import Sample
from reference_model.hmvlm.training import collate, micro_step
from reference_model.tokenizer.tokens import tokens_to_codes




def _text_ids(tok, text="The cat sat on the mat because it was warm."):
    return torch.tensor([tok(text)["input_ids"]])


def test_zero_expert_preserves_base(tiny_net):
    base, tok = tiny_llama(seed=tiny_net.cfg.seed)
    ids = _text_ids(tok)
    with torch.no_grad():
        ref = base(input_ids=ids).logits
        zero = torch.zeros(1, 5)
        zero[0, 0] = 1.0
        with tiny_net.routed(zero):
            got = tiny_net.llm(input_ids=ids).logits
        other = torch.full((1, 5), 0.2)
        with tiny_net.routed(other):
            moved = tiny_net.llm(input_ids=ids).logits
    v = ref.shape[-1]
    assert got.shape[-1] == tiny_net.vocab.total > v
    assert torch.allclose(got[..., :v], ref, atol=1e-6, rtol=0)
    # the experts are non-trivial: any weight off the zero expert changes the logits
    assert (moved[..., :v] - ref).abs().max() > 1e-3


def test_zero_expert_merge_path_matches(tiny_net):
    ids = _text_ids(tiny_net.tokenizer)
    alpha = torch.tensor([[0.3, 0.1, 0.2, 0.3, 0.1]])
    with torch.no_grad():
        with tiny_net.routed(alpha):
            unmerged = tiny_net.llm(input_ids=ids).logits
        with tiny_net.routed(alpha, merge=True):
            merged = tiny_net.llm(input_ids=ids).logits
    assert torch.allclose(merged, unmerged, atol=1e-4)


def test_text_tokenization_unchanged_by_extension(tiny_net):
    _, tok = tiny_llama()
    text = "A person walks forward, then <waves> with the left hand."
    assert tiny_net.tokenizer(text)["input_ids"] == tok(text)["input_ids"]
    assert tiny_net.vocab.base_vocab == len(tok)


def test_text_rows_untouched_by_training_step(tiny_factory):
    net = tiny_factory(randomize_experts=False)
    emb = net.llm.get_input_embeddings()
    before_text = emb.weight.detach().clone()
    before_new = emb.extra.detach().clone()
    motion = "<motion>" + "".join(f"<m{p}_{k}>" for k in (1, 2) for p in ("t", "la", "ra", "ll", "rl")) + "</motion>"
    samples = [Sample("t2m", "Generate a motion: a person walks", motion),
               Sample("general", "Say hello.", "Hello!", is_general=True)]
    opt = torch.optim.AdamW(net.param_groups(), lr=1e-2)
    net.train()
    out = micro_step(net, collate(net.tokenizer, samples, 128), samples, None, "cpu")
    out["loss"].backward()
    opt.step()
    assert torch.equal(emb.weight, before_text)
    assert emb.weight is net.llm.get_output_embeddings().weight  # still tied
    assert not torch.equal(emb.extra, before_new)
    assert out["gate"] > 0  # the general sample carries L_gat


@pytest.mark.parametrize("n_steps", [1, 3, 7])
def test_constrained_decoding_yields_requested_length(tiny_net, n_steps):
    tok = tiny_net.tokenizer
    m = tiny_net.motion
    rows = [tok("Make a motion", add_special_tokens=False)["input_ids"] + [m.start_marker],
            tok("x", add_special_tokens=False)["input_ids"] + [m.start_marker]]
    plans = [RowPlan(n_steps, {}, 0), RowPlan(max(1, n_steps - 1), {0: m.starts[0] + 3}, 1)]
    proc = StreamConstraint(m.starts, m.size, plans, max(len(r) for r in rows), m.end_marker, 0)
    with torch.no_grad(), tiny_net.routed(torch.full((2, 5), 0.2)):
        gen = decode(tiny_net.llm, rows, n_steps * 5 + 1, proc, 0, seeds=[0, 1], top_k=50)
    for plan, g in zip(plans, gen):
        text = "<motion>" + "".join(tok.convert_ids_to_tokens(g[:plan.n_steps * 5])) + "</motion>"
        codes, report = tokens_to_codes(text, 5, m.size)
        assert report.ok, report.reasons
        assert codes.shape == (plan.n_steps, 5)
        assert g[plan.n_steps * 5] == m.end_marker
        decoded = tiny_net.motion_tok.decode(torch.from_numpy(codes)[None])
        assert decoded.shape == (1, 4 * plan.n_steps, 263)
    assert gen[1][0] == m.starts[0] + 3  # pinned first token (t2m "given first step")


def test_sampling_is_seeded_and_batch_invariant(tiny_net):
    tok = tiny_net.tokenizer
    m = tiny_net.motion
    prompts = [tok(t, add_special_tokens=False)["input_ids"] + [m.start_marker]
               for t in ("a person jumps", "someone runs in a circle quickly")]

    def run(rows, seeds):
        plans = [RowPlan(4, {}, s) for s in seeds]
        proc = StreamConstraint(m.starts, m.size, plans, max(len(r) for r in rows), m.end_marker, 0)
        with torch.no_grad(), tiny_net.routed(torch.full((len(rows), 5), 0.2)):
            return decode(tiny_net.llm, rows, 20, proc, 0, seeds=seeds, top_k=20)

    a = run(prompts, [5, 6])
    assert a == run(prompts, [5, 6])
    assert run(prompts[1:], [6])[0] == a[1]  # same request alone: same answer
    assert run(prompts, [7, 6])[0] != a[0]  # another seed: another sample (20-way top-k)
