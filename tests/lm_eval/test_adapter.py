"""The hmvlm lm-eval model: registration, exact log-likelihoods, per-sample routing."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hmvlm_bench.errors import UserError
from hmvlm_bench.lm_eval_adapter import HmvlmLM, build_lm_backend


@dataclass
class _Req:
    args: tuple


def test_registered_under_hmvlm() -> None:
    from lm_eval.api.registry import get_model

    assert get_model("hmvlm") is HmvlmLM


def test_unknown_model_and_args_are_user_errors() -> None:
    # other model names come from the harness registry: a typo gets a suggestion and a
    # model without a language-model view is refused
    with pytest.raises(UserError, match="did you mean 'hmvlm'"):
        build_lm_backend({"model": "hmvlmm"})
    with pytest.raises(UserError, match="no language-model view"):
        build_lm_backend({"model": "ground-truth"})
    with pytest.raises(UserError, match="unknown model_args"):
        build_lm_backend({"model": "base", "preset": "tiny", "colour": "red"})
    with pytest.raises(UserError, match="preset"):
        build_lm_backend({"model": "base", "preset": "huge"})


def _direct_logprob(model: Any, ids: list[int], n_cont: int) -> float:
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0].float(), -1)
    return sum(logp[t - 1, ids[t]].item() for t in range(len(ids) - n_cont, len(ids)))


def test_loglikelihood_matches_unpadded_forward(tiny_backend: Any) -> None:
    lm = HmvlmLM(backend=tiny_backend, batch_size=4)
    pairs = [("Question: What is 2 plus 2?\nAnswer:", " 4"), ("Hi", " there, how are you today?"),
             ("The capital of France is", " Paris"), ("A", " b c")]
    got = lm.loglikelihood([_Req(p) for p in pairs], disable_tqdm=True)
    for (ctx, cont), (lp, _) in zip(pairs, got):
        c_ids, w_ids = lm.tok_encode(ctx), lm.tok_encode(ctx + cont)
        assert lp == pytest.approx(_direct_logprob(tiny_backend.hf_model, w_ids, len(w_ids) - len(c_ids)), abs=1e-3)


def test_rolling_equals_full_forward_and_windows_cover_all_tokens(tiny_backend: Any) -> None:
    text = "Hundreds of people have been forced to vacate their homes as strong winds pushed a fire."
    lm = HmvlmLM(backend=tiny_backend, batch_size=2)
    (total,) = lm.loglikelihood_rolling([_Req((text,))])
    ids = [lm.prefix_token_id] + lm.tok_encode(text)
    assert total == pytest.approx(_direct_logprob(tiny_backend.hf_model, ids, len(ids) - 1), abs=1e-3)
    short = HmvlmLM(backend=tiny_backend, batch_size=2, max_length=5)  # forces several windows
    (windowed,) = short.loglikelihood_rolling([_Req((text,))])
    assert windowed < 0 and windowed != pytest.approx(total, abs=1e-6)


class _RoutedBackend:
    """Adds a prompt-dependent offset to each row's embeddings: a stand-in for a per-sample gate."""

    def __init__(self, base: Any) -> None:
        self.hf_model, self.tokenizer = base.hf_model, base.tokenizer
        self.calls: list[list[str]] = []

    @contextlib.contextmanager
    def route(self, prompts: list[str]) -> Iterator[None]:
        self.calls.append(list(prompts))
        offsets = torch.tensor([0.05 * (len(p) % 7) for p in prompts])[:, None, None]
        handle = self.hf_model.get_input_embeddings().register_forward_hook(lambda m, i, o: o + offsets)
        try:
            yield
        finally:
            handle.remove()


def test_routing_is_per_sample(tiny_backend: Any) -> None:
    routed = _RoutedBackend(tiny_backend)
    pairs = [("Short", " one"), ("A much longer context here", " two"), ("Mid length", " three four"),
             ("x", " y"), ("Another prompt of size", " five")]
    batched = HmvlmLM(backend=routed, batch_size=3).loglikelihood([_Req(p) for p in pairs], disable_tqdm=True)
    assert all(len(call) <= 3 for call in routed.calls)
    assert sorted(p for call in routed.calls for p in call) == sorted(c for c, _ in pairs)
    single = HmvlmLM(backend=routed, batch_size=1).loglikelihood([_Req(p) for p in pairs], disable_tqdm=True)
    plain = HmvlmLM(backend=tiny_backend, batch_size=1).loglikelihood([_Req(p) for p in pairs], disable_tqdm=True)
    for (b, _), (s, _), (p, _) in zip(batched, single, plain):
        assert b == pytest.approx(s, abs=1e-3)  # each row got its own gate in the batch
    assert any(abs(s - p) > 1e-3 for (s, _), (p, _) in zip(single, plain))  # routing did change scores


def test_generate_batched_equals_single_and_cuts_at_stop(tiny_backend: Any) -> None:
    prompts = ["Hello", "Tell me a story about a cat", "What is 2+2?"]
    kwargs = {"until": ["<|im_end|>"], "max_gen_toks": 6, "do_sample": False}
    reqs = [_Req((p, kwargs)) for p in prompts]
    batched = HmvlmLM(backend=tiny_backend, batch_size=3).generate_until(reqs)
    single = HmvlmLM(backend=tiny_backend, batch_size=1).generate_until(reqs)
    assert batched == single and all(isinstance(t, str) and t for t in batched)
    lm = HmvlmLM(backend=tiny_backend, batch_size=3)
    full = lm.generate(prompts[:1], max_new_tokens=6)[0]
    stop = full[len(full) // 2:] or full
    assert lm.generate(prompts[:1], until=[stop], max_new_tokens=6)[0] == full.split(stop, 1)[0]
    with pytest.raises(UserError, match="greedily"):
        lm.generate_until([_Req(("x", {"do_sample": True, "temperature": 1.0}))])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 300), min_size=1, max_size=40), st.integers(1, 8))
def test_token_batches_cover_each_request_once_within_budget(lengths: list[int], size: int) -> None:
    from hmvlm_bench.lm_eval_adapter import _token_batches

    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches = list(_token_batches(order, lengths, size, max_tokens=500))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= size
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 500
