"""Moved to `hmvlm_bench.metrics.forgetting` (metrics live in `hmvlm_bench/metrics/`).
Kept as a re-export: tasks/lm_eval/hmvlm_utils.py imports it from here, and that file's
bytes enter the forgetting suites' hashes (an edit would re-key every forgetting result
and the shipped base-LLM scores)."""
from hmvlm_bench.metrics.forgetting import (  # noqa: F401
    PREFIX_WORDS, Delta, forgetting_scores, paired_bootstrap_ci, prefix_match, retention_scores, rouge_l_f,
)
