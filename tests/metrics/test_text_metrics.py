"""Caption metrics against libraries and hand-computed values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from nltk.translate.bleu_score import corpus_bleu as nltk_corpus_bleu
from rouge_score import rouge_scorer

from hmvlm_bench.errors import UserError
from hmvlm_bench.metrics import text as T

PREDS = [
    "A man walks forward, then turns left.",
    "a person jumps up and down twice",
    "someone waves with the right hand",
]
REFS1 = [
    ["a man walks forward and then turns left"],
    ["a person jumps up and down"],
    ["a person waves the right hand slowly"],
]


def test_tokenize_matches_nlgmetricverse_rule():
    assert T.tokenize("A man's walk-cycle, FAST!") == ["a", "man", "s", "walk", "cycle", "fast"]


def test_bleu_equals_nltk_with_single_references():
    hyps = [T.tokenize(p) for p in PREDS]
    refs = [[T.tokenize(r) for r in rs] for rs in REFS1]
    assert T.corpus_bleu(PREDS, REFS1, 4) == pytest.approx(nltk_corpus_bleu(refs, hyps), abs=1e-12)
    assert T.corpus_bleu(PREDS, REFS1, 1) == pytest.approx(nltk_corpus_bleu(refs, hyps, weights=(1.0,)), abs=1e-12)


def test_bleu_brevity_uses_shortest_reference_like_nmt():
    # hyp 4 tokens; refs of 3 and 6 tokens: shortest (3) -> no brevity penalty.
    # nltk would use the closest length (3 too); with refs 5 and 6, shortest = 5 -> BP.
    pred = ["the man walks fast"]
    refs = [["the man walks fast today", "the man walks fast and far"]]
    bp = math.exp(1 - 5 / 4)
    assert T.corpus_bleu(pred, refs, 1) == pytest.approx(bp)


def test_rouge_l_equals_rouge_score_max_over_refs():
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    refs = [rs + ["completely unrelated words here"] for rs in REFS1]
    expected = [max(scorer.score(r, p)["rougeL"].fmeasure for r in rs) for p, rs in zip(PREDS, refs)]
    np.testing.assert_allclose(T.rouge_l(PREDS, refs), expected)


def test_cider_d_hand_computed():
    # Two items, one reference each. N = 2 items, idf = log 2 - log df.
    # item 1: cand "a b", ref "a b"; item 2: cand "a c", ref "a d".
    # unigrams: 'a' df=2 -> idf 0; 'b','d' df=1 -> idf log2; 'c' df=0 -> idf log2.
    # item 1: n=1 vectors cand {a:0, b:L}, ref {a:0, b:L} -> cos 1; n=2 {ab:L} vs {ab:L} -> 1;
    #         n=3,4 empty -> 0. lengths equal. score = 10 * (1 + 1 + 0 + 0)/4 = 5.
    # item 2: n=1 cand {a:0, c:L} ref {a:0, d:L} -> 0; n=2 {ac} vs {ad} -> 0. score 0.
    s = T.cider_d(["a b", "a c"], [["a b"], ["a d"]])
    np.testing.assert_allclose(s, [5.0, 0.0])


def test_cider_d_clipping_and_length_penalty():
    # Repeating a matching word is clipped: cand "b b" vs ref "b" with idf > 0.
    # n=1: cand {b: 2L}, ref {b: L}: min(2L, L)*L / (2L * L) = 0.5; n=2 cand {bb:L} ref {} -> 0.
    # bigram lengths 1 vs 0 -> penalty exp(-1/72). Item 2 ("x" vs "y") supplies a second doc.
    s = T.cider_d(["b b", "x"], [["b"], ["y"]])
    assert s[0] == pytest.approx(10 * 0.5 / 4 * math.exp(-1 / 72))
    assert s[1] == 0.0


def test_caption_metrics_without_bertscore_and_errors():
    out = T.caption_metrics(PREDS, REFS1, bertscore=False)
    assert set(out) == {"BLEU@1", "BLEU@4", "ROUGE-L", "CIDEr-D", "length"}
    assert out["length"] == pytest.approx((7 + 7 + 6) / 3)
    same = T.caption_metrics([r[0] for r in REFS1], REFS1, bertscore=False)
    assert same["BLEU@4"] == pytest.approx(1.0) and same["ROUGE-L"] == pytest.approx(1.0)
    with pytest.raises(UserError):
        T.caption_metrics(PREDS, REFS1[:2])
    with pytest.raises(UserError):
        T.caption_metrics(PREDS, ["a", "b", "c"])  # type: ignore[list-item]


@pytest.mark.slow
def test_bertscore_local_minilm():
    f1 = T.bertscore_f1(["a man walks forward", "a dog barks"], [["a man walks forward"], ["a person sits down"]])
    assert f1[0] == pytest.approx(1.0, abs=1e-4) and f1[1] < f1[0]


def test_bertscore_empty_caption_scores_zero_not_crash():
    # bert-score 0.3.13 + transformers 5 crash on empty candidates; we score them 0
    from hmvlm_bench.metrics.text import bertscore_f1

    f1 = bertscore_f1(["a man walks", ""], [["a person walks forward"], ["a man runs"]])
    assert f1[1] == 0.0 and 0.3 < f1[0] <= 1.0


def test_bertscore_does_not_depend_on_the_process_hash_seed() -> None:
    """bert-score batches sentences in `set` order; with batches of several sentences the
    score changed with PYTHONHASHSEED (i.e. run to run). Ours must not."""
    import os
    import subprocess
    import sys

    code = ("import numpy as np, torch; torch.set_num_threads(1)\n"
            "from hmvlm_bench.metrics.text import bertscore_f1\n"
            "rng = np.random.default_rng(0)\n"
            "w = 'a person walks forward turns left jumps twice in place man waves his hand runs back sits'.split()\n"
            "s = lambda: ' '.join(rng.choice(w, size=int(rng.integers(4, 14))))\n"
            "c = [s() for _ in range(48)]\n"
            "r = [[s() for _ in range(3)] for _ in range(48)]\n"
            "print(repr(float(bertscore_f1(c, r).sum())))")
    outs = set()
    for seed in ("0", "1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout.strip())
    assert len(outs) == 1, outs
