"""Classifier-free guidance in t2m decoding (issue 14): the mixing rule by hand, scale 1 is
plain decoding, a guided row is what a hand-written guided loop gives, and the caption
then moves the tokens more than without guidance."""
from __future__ import annotations

import math

import pytest
import torch

from hmvlm_bench.contracts import MotionRequest
from reference_model.hmvlm import templates as T
from reference_model.hmvlm.generation import NEG, Guidance, RowPlan, StreamConstraint, decode
from reference_model.hmvlm.model import code_ids, generate_motions, pad_id, prompt_ids

from tests.hmvlm.conftest import build_tiny


def test_mix_by_hand_and_masked_ids_stay_masked():
    cond = torch.tensor([[1.0, 3.0, NEG]])
    uncond = torch.tensor([[2.0, 0.0, NEG]])
    out = Guidance([[0]], 2.0).mix(cond, uncond)
    # 2 + 2 * (1 - 2) = 0 ; 0 + 2 * (3 - 0) = 6 ; masked in both -> -inf, not nan
    assert out[0, :2].tolist() == [0.0, 6.0]
    assert out[0, 2].item() == -math.inf


def _reqs(texts, seed=5):
    return [MotionRequest(f"s{i}", "synthetic", t, 16, seed=seed + i) for i, t in enumerate(texts)]


@pytest.fixture(scope="module")
def net():
    return build_tiny()


def test_scale_one_is_plain_decoding(net):
    reqs = _reqs(["a person walks forward", "someone jumps"])
    plain = [p.info["codes"] for p in generate_motions(net, reqs)]
    assert [p.info["codes"] for p in generate_motions(net, reqs, cfg_scale=1.0)] == plain


def test_guided_greedy_equals_a_hand_written_guided_loop(net):
    # greedy, one row, no KV cache: recompute both prompts from scratch at every step
    text, scale, steps = "a person kicks with the left leg", 3.0, 2
    req = MotionRequest("s", "synthetic", text, 4 * steps, seed=1)
    got = generate_motions(net, [req], top_k=0, cfg_scale=scale)[0].info["codes"]

    m = net.motion
    cond = prompt_ids(net, T.t2m_prompt(text, "text", 1), m.start_marker)
    unc = prompt_ids(net, T.t2m_prompt("", "text", 1), m.start_marker)
    alpha = net.gate_weights([T.t2m_prompt(text, "text", 1), T.t2m_prompt("", "text", 1)])
    out: list[int] = []
    with torch.no_grad():
        for j in range(steps * m.n_streams):
            lc = _last_logits(net, cond + out, alpha[:1])
            lu = _last_logits(net, unc + out, alpha[1:])
            mixed = lu + scale * (lc - lu)
            s = m.starts[j % m.n_streams]
            out.append(s + int(mixed[s:s + m.size].argmax()))
    codes = [[out[i * m.n_streams + k] - m.starts[k] for k in range(m.n_streams)] for i in range(steps)]
    assert got == codes


def test_guided_prealloc_equals_guided_eager(net):
    # t2m decodes with prealloc by default: guidance must give the eager engine's tokens there
    reqs = _reqs(["a person walks forward", "someone jumps twice", "a man kicks"])
    eager = [p.info["codes"] for p in generate_motions(net, reqs, cfg_scale=3.0, engine="eager")]
    assert [p.info["codes"] for p in generate_motions(net, reqs, cfg_scale=3.0, engine="prealloc")] == eager
    assert eager != [p.info["codes"] for p in generate_motions(net, reqs, engine="eager")]  # guidance acted


def _last_logits(net, ids, alpha):
    with net.routed(alpha):
        return net.llm(input_ids=torch.tensor([ids])).logits[0, -1].float()


def test_guidance_checks_its_rows(net):
    m = net.motion
    rows = [prompt_ids(net, "x", m.start_marker)]
    proc = StreamConstraint(m.starts, m.size, [RowPlan(1, {})], len(rows[0]), m.end_marker, pad_id(net))
    with pytest.raises(ValueError, match="one unconditional row per row"):
        decode(net.llm, rows, 5, proc, pad_id(net), guidance=Guidance([], 2.0), allowed_ids=code_ids(m))
    with pytest.raises(ValueError, match=r"loop engines \(eager, prealloc\) only"):
        decode(net.llm, rows, 5, proc, pad_id(net), guidance=Guidance(rows, 2.0), engine="static")
