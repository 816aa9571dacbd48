from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from reference_model.tokenizer.tokens import (
    DecodeReport, codes_to_text, codes_to_tokens, token_vocabulary, tokens_to_codes,
)


def test_names_and_order_by_hand() -> None:
    codes = np.array([[12, 3, 4, 5, 6], [0, 1, 2, 3, 511]])
    assert codes_to_tokens(codes) == [
        "<motion>", "<mt_12>", "<mla_3>", "<mra_4>", "<mll_5>", "<mrl_6>",
        "<mt_0>", "<mla_1>", "<mra_2>", "<mll_3>", "<mrl_511>", "</motion>",
    ]
    assert codes_to_text(codes[:1], "pose") == "<pose><pt_12><pla_3><pra_4><pll_5><prl_6></pose>"
    assert codes_to_tokens(np.array([[7], [9]])) == ["<motion>", "<m_7>", "<m_9>", "</motion>"]


def test_vocabulary() -> None:
    vocab = token_vocabulary(5, 512)
    assert len(vocab) == 2 * (2 + 5 * 512) and len(set(vocab)) == len(vocab)
    assert vocab[:3] == ["<motion>", "</motion>", "<mt_0>"] and "<prl_511>" in vocab
    assert len(token_vocabulary(1, 2560, kinds=("motion",))) == 2 + 2560


def test_malformed_cases() -> None:
    ok = "<motion><mt_1><mla_2><mra_3><mll_4><mrl_5><mt_6><mla_7><mra_8><mll_9><mrl_10></motion>"
    codes, rep = tokens_to_codes(ok, 5, 16)
    assert codes.tolist() == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]] and rep.ok
    # wrong count: incomplete last step
    codes, rep = tokens_to_codes(ok.replace("<mrl_10>", ""), 5, 16)
    assert codes.tolist() == [[1, 2, 3, 4, 5]] and rep.dropped == 4 and "incomplete" in rep.reasons[0]
    # wrong order: second step starts with a left-arm token
    codes, rep = tokens_to_codes(ok.replace("<mt_6><mla_7>", "<mla_7><mt_6>"), 5, 16)
    assert codes.shape == (1, 5) and rep.dropped == 5
    # unknown token / out-of-range code
    for bad in ("<mt_6>", "<mt_99>"):
        codes, rep = tokens_to_codes(ok.replace("<mt_6>", bad.replace("6", "x") if bad == "<mt_6>" else bad), 5, 16)
        assert codes.shape == (1, 5) and rep.dropped == 5
    # missing markers: still parsed, reasons recorded
    codes, rep = tokens_to_codes(ok.replace("<motion>", "").replace("</motion>", ""), 5, 16)
    assert codes.shape == (2, 5) and rep.dropped == 0
    assert rep.reasons == ["missing <motion>", "missing </motion>"]
    # text around the markers is ignored; pose tokens are not motion tokens
    codes, rep = tokens_to_codes("sure! " + ok + " done", 5, 16)
    assert codes.shape == (2, 5) and rep.ok
    codes, rep = tokens_to_codes(ok.replace("<mt_1>", "<pt_1>"), 5, 16)
    assert codes.shape == (0, 5) and rep.dropped == 10
    # garbage input types
    assert tokens_to_codes(None, 5, 16)[0].shape == (0, 5)  # type: ignore[arg-type]
    assert tokens_to_codes([1, 2, 3], 5, 16)[0].shape == (0, 5)  # type: ignore[list-item]


codes_strategy = st.integers(1, 5).flatmap(
    lambda s: st.lists(st.lists(st.integers(0, 63), min_size=s, max_size=s), max_size=12)
    .map(lambda rows, s=s: np.array(rows, dtype=np.int64).reshape(-1, s))
).filter(lambda a: a.shape[1] in (1, 5))


@settings(max_examples=100, deadline=None)
@given(codes_strategy, st.sampled_from(["motion", "pose"]))
def test_round_trip(codes: np.ndarray, kind: str) -> None:
    back, rep = tokens_to_codes(codes_to_tokens(codes, kind), codes.shape[1], 64, kind)  # type: ignore[arg-type]
    assert np.array_equal(back, codes) and rep.ok
    back, rep = tokens_to_codes(codes_to_text(codes, kind), codes.shape[1], 64, kind)  # type: ignore[arg-type]
    assert np.array_equal(back, codes)


@settings(max_examples=200, deadline=None)
@given(codes_strategy, st.data())
def test_mutations_never_raise_and_yield_a_prefix(codes: np.ndarray, data: st.DataObject) -> None:
    toks = codes_to_tokens(codes)
    op = data.draw(st.sampled_from(["delete", "insert", "swap", "truncate"]))
    inserted = data.draw(st.sampled_from(["<mt_999>", "<bogus>", "hello", "<mla_1>", "<motion>"]))
    if toks:
        i = data.draw(st.integers(0, len(toks) - 1))
        if op == "delete":
            del toks[i]
        elif op == "insert":
            toks.insert(i, inserted)
        elif op == "swap" and len(toks) > 1:
            j = data.draw(st.integers(0, len(toks) - 1))
            toks[i], toks[j] = toks[j], toks[i]
        else:
            toks = toks[:i]
    back, rep = tokens_to_codes(toks, codes.shape[1], 64)
    assert isinstance(rep, DecodeReport) and rep.dropped >= 0
    assert back.ndim == 2 and back.shape[1] == codes.shape[1] and back.dtype == np.int64
    assert ((back >= 0) & (back < 64)).all()
    prefix_safe = op == "truncate" or (op == "delete" and codes.shape[1] == 5) or (
        op == "insert" and inserted in ("<mt_999>", "<bogus>", "hello"))
    if prefix_safe:
        # edits that cannot form other valid steps leave a prefix of the original steps
        assert back.shape[0] <= codes.shape[0] and np.array_equal(back, codes[: back.shape[0]])
