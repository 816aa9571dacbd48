"""Forgetting: how much a tuned model lost on general-language suites, with paired CIs.

Pure functions (numbers in, numbers out). `retention_scores` compares a generation to the
base model's own greedy answer (a judge-free stand-in for MT-Bench); `forgetting_scores`
turns base/tuned per-item scores into the deltas of the paper's forgetting table
(HMVLM Table 1 reports MT-Bench base -> tuned and the relative change).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence


PREFIX_WORDS = 16  # reference words checked by `prefix_match`


def _words(text: str) -> list[str]:
    return text.lower().split()


def rouge_l_f(prediction: str, reference: str) -> float:
    """ROUGE-L F1 of one answer against one reference, with the suite's caption metric
    (`hmvlm_bench.metrics.text.rouge_l`, rouge-score). Two empty strings match perfectly
    (the base model may answer with nothing)."""
    from hmvlm_bench.metrics.text import rouge_l

    if not prediction.strip() and not reference.strip():
        return 1.0
    if not prediction.strip() or not reference.strip():
        return 0.0
    return float(rouge_l([prediction], [[reference]])[0])


def prefix_match(prediction: str, reference: str, n_words: int = PREFIX_WORDS) -> float:
    """Share of the reference's first `n_words` words reproduced, in order, from the start."""
    pred, ref = _words(prediction)[:n_words], _words(reference)[:n_words]
    if not ref:
        return 1.0 if not pred else 0.0
    same = 0
    for x, y in zip(pred, ref):
        if x != y:
            break
        same += 1
    return same / len(ref)


def retention_scores(prediction: str, reference: str) -> dict[str, float]:
    """Per-item retention metrics of `hmvlm_retention` (1.0 = the base model's answer)."""
    return {"rouge_l_f": rouge_l_f(prediction, reference), "prefix_match": prefix_match(prediction, reference)}


@dataclass(frozen=True)
class Delta:
    """tuned - base for one metric, with a paired bootstrap 95% CI over items."""

    base: float
    tuned: float
    delta: float
    relative: float  # delta / |base|; nan when base is 0
    ci_low: float
    ci_high: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def paired_bootstrap_ci(
    base_items: Sequence[float], tuned_items: Sequence[float], n_boot: int = 1000, seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile CI of mean(tuned - base), resampling items jointly (paired)."""
    import numpy as np

    from hmvlm_bench.metrics.stats import bootstrap_ci

    base_arr, tuned_arr = np.asarray(base_items, float), np.asarray(tuned_items, float)
    if base_arr.shape != tuned_arr.shape or base_arr.ndim != 1 or base_arr.size == 0:
        raise ValueError(  # a caller's bug, not the user's input: the pair fails alone
            f"paired bootstrap needs two equal, non-empty item lists (got {base_arr.shape} and {tuned_arr.shape})"
        )
    ci = bootstrap_ci(tuned_arr - base_arr, np.mean, n_resamples=n_boot, level=level, rng=seed)
    return float(ci.low), float(ci.high)


def forgetting_scores(
    base: Mapping[str, float],
    tuned: Mapping[str, float],
    per_sample_base: Mapping[str, Sequence[float]] | None = None,
    per_sample_tuned: Mapping[str, Sequence[float]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Per metric: base, tuned, delta = tuned - base, relative = delta/|base|, 95% CI.

    `base`/`tuned` map metric -> aggregate. Where both per-sample maps hold the metric
    (item scores aligned by position, same items), the CI is a paired bootstrap of the
    mean difference; otherwise it is nan (e.g. perplexities, whose aggregate is not a
    mean of item scores).
    """
    per_sample_base = per_sample_base or {}
    per_sample_tuned = per_sample_tuned or {}
    out: dict[str, dict[str, Any]] = {}
    for metric in sorted(set(base) & set(tuned)):
        b, t = float(base[metric]), float(tuned[metric])
        delta = t - b
        relative = delta / abs(b) if b != 0 else math.nan
        lo = hi = math.nan
        n = 0
        if metric in per_sample_base and metric in per_sample_tuned:
            items_b, items_t = per_sample_base[metric], per_sample_tuned[metric]
            if len(items_b) != len(items_t):
                raise ValueError(
                    f"forgetting on '{metric}': base has {len(items_b)} items, tuned {len(items_t)}"
                )
            lo, hi = paired_bootstrap_ci(items_b, items_t, n_boot=n_boot, seed=seed)
            n = len(items_b)
        out[metric] = Delta(b, t, delta, relative, lo, hi, n).to_dict()
    return out
