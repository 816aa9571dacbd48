"""Metrics: pure functions over arrays/strings. Submodules import their heavy
dependencies lazily (scipy, rouge-score, bert-score)."""
from hmvlm_bench.metrics.motion import (
    MetricSummary,
    ReferenceStatistics,
    activation_statistics,
    diversity,
    euclidean_distance_matrix,
    fid,
    frechet_distance,
    matching_distance,
    multimodality,
    r_precision,
    replicate,
    replicate_t2m_metrics,
    summarize,
    t2m_metrics,
)

__all__ = [
    "MetricSummary",
    "ReferenceStatistics",
    "activation_statistics",
    "diversity",
    "euclidean_distance_matrix",
    "fid",
    "frechet_distance",
    "matching_distance",
    "multimodality",
    "r_precision",
    "replicate",
    "replicate_t2m_metrics",
    "summarize",
    "t2m_metrics",
]
