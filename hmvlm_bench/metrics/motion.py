"""Text-to-motion metrics over evaluator embeddings (Guo et al. 2022 protocol).

Pure functions: numpy arrays in, numbers out. Definitions follow
EricGuo5513/text-to-motion `utils/metrics.py` and `final_evaluations.py`; where we
deviate (numerical guards, stable tie-breaking) the docstring says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from hmvlm_bench.errors import UserError

# Protocol constants (Guo et al. 2022, final_evaluations.py / MotionGPT t2m.py).
R_PRECISION_BATCH = 32  # one true motion ranked among 32 per batch
R_PRECISION_TOP_K = 3
DIVERSITY_PAIRS = 300
MULTIMODALITY_PAIRS = 10
MULTIMODALITY_TEXTS = 100
MULTIMODALITY_GENERATIONS = 30
REPLICATIONS = 20


def _as_2d(name: str, x: np.ndarray) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise UserError(f"{name} must be a 2-d array (n, d), got shape {arr.shape}")
    return arr


# ---------------------------------------------------------------------------- FID


def activation_statistics(acts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (np.cov, ddof=1) of activations (n, d)."""
    a = _as_2d("acts", acts)
    if a.shape[0] < 2:
        raise UserError(f"need at least 2 activations for a covariance, got {a.shape[0]}")
    mu = a.mean(axis=0)
    centred = a - mu
    # Same numbers as np.cov(a, rowvar=False) (ddof=1), via one BLAS call.
    sigma = centred.T @ centred / (a.shape[0] - 1)
    return mu, sigma


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    eps: float = 1e-6,
    method: str = "sqrtm",
) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = |mu1 - mu2|^2 + Tr(s1 + s2 - 2 sqrt(s1 s2)).

    method="sqrtm" is the reference computation (utils/metrics.py, after
    Dougal Sutherland's stable FID): scipy.linalg.sqrtm of s1 s2; on a non-finite
    result retry with eps*I added to both covariances; drop an imaginary part when the
    diagonal's imaginary part is within 1e-3 of zero, else raise.
    method="eigh" uses Tr sqrt(s1 s2) = sum sqrt(eig(S s2 S)) with S = sqrt(s1), which
    is exact for PSD covariances, needs no eps, and is several times faster; it agrees
    with "sqrtm" to ~1e-8 on well-conditioned inputs (tested).
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    s1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    s2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise UserError(
            f"FID inputs disagree in shape: mu {mu1.shape} vs {mu2.shape}, "
            f"sigma {s1.shape} vs {s2.shape}"
        )
    diff = mu1 - mu2
    if method == "eigh":
        tr_covmean = _trace_sqrt_product_eigh(s1, s2)
    elif method == "sqrtm":
        tr_covmean = _trace_sqrt_product_sqrtm(s1, s2, eps)
    else:
        raise UserError(f"unknown FID method {method!r}; use 'sqrtm' or 'eigh'")
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def _trace_sqrt_product_sqrtm(s1: np.ndarray, s2: np.ndarray, eps: float) -> float:
    from scipy import linalg

    covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        # Near-singular product: same remedy as the reference (eps on the diagonal).
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FID: imaginary component {np.max(np.abs(covmean.imag)):.3g}")
        covmean = covmean.real
    return float(np.trace(covmean))


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _trace_sqrt_product_eigh(s1: np.ndarray, s2: np.ndarray, s1_sqrt: np.ndarray | None = None) -> float:
    root = _psd_sqrt(s1) if s1_sqrt is None else s1_sqrt
    m = root @ s2 @ root
    w = np.linalg.eigvalsh((m + m.T) * 0.5)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def fid(acts_a: np.ndarray, acts_b: np.ndarray, method: str = "sqrtm") -> float:
    """FID between two activation sets (n, d); the reference passes (gt, generated)."""
    mu_a, s_a = activation_statistics(acts_a)
    mu_b, s_b = activation_statistics(acts_b)
    return frechet_distance(mu_a, s_a, mu_b, s_b, method=method)


@dataclass
class ReferenceStatistics:
    """Ground-truth activation statistics, computed once and reused across
    replications (the square root of the covariance is cached for method="eigh")."""

    mu: np.ndarray
    sigma: np.ndarray
    _sqrt: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_activations(cls, acts: np.ndarray) -> "ReferenceStatistics":
        mu, sigma = activation_statistics(acts)
        return cls(mu, sigma)

    def fid_to(self, acts: np.ndarray, method: str = "eigh") -> float:
        """FID(reference, acts). method as in `frechet_distance`."""
        mu, sigma = activation_statistics(acts)
        if method != "eigh":
            return frechet_distance(self.mu, self.sigma, mu, sigma, method=method)
        if mu.shape != self.mu.shape:
            raise UserError(f"FID: activation dim {mu.shape[0]} != reference {self.mu.shape[0]}")
        if self._sqrt is None:
            self._sqrt = _psd_sqrt(self.sigma)
        diff = self.mu - mu
        tr = _trace_sqrt_product_eigh(self.sigma, sigma, self._sqrt)
        return float(diff @ diff + np.trace(self.sigma) + np.trace(sigma) - 2.0 * tr)


# ------------------------------------------------------------ matching / R-precision


def euclidean_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n1, d), (n2, d) -> (n1, n2) Euclidean distances.

    Same expansion as the reference (|a|^2 - 2 a.b + |b|^2); we clip tiny negative
    round-off to 0 before the square root where the reference would produce NaN
    (MotionGPT patches the same NaNs with nan_to_num).
    """
    a2 = np.asarray(a, dtype=np.float64)
    b2 = np.asarray(b, dtype=np.float64)
    if a2.shape[-1] != b2.shape[-1]:
        raise UserError(f"embedding dims differ: {a2.shape[-1]} vs {b2.shape[-1]}")
    sq = (
        np.sum(a2 * a2, axis=-1)[..., :, None]
        - 2.0 * (a2 @ np.swapaxes(b2, -1, -2))
        + np.sum(b2 * b2, axis=-1)[..., None, :]
    )
    return np.sqrt(np.clip(sq, 0.0, None))


def _complete_batches(text: np.ndarray, motion: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    t = _as_2d("text_emb", text)
    m = _as_2d("motion_emb", motion)
    if t.shape != m.shape:
        raise UserError(f"text and motion embeddings differ in shape: {t.shape} vs {m.shape}")
    if batch_size < 1:
        raise UserError(f"batch_size must be >= 1, got {batch_size}")
    nb = t.shape[0] // batch_size
    if nb == 0:
        raise UserError(f"need at least {batch_size} pairs for R-precision, got {t.shape[0]}")
    # The reference loader uses drop_last=True: the incomplete last batch is ignored.
    n = nb * batch_size
    return t[:n].reshape(nb, batch_size, -1), m[:n].reshape(nb, batch_size, -1)


def true_match_ranks(text_emb: np.ndarray, motion_emb: np.ndarray, batch_size: int = R_PRECISION_BATCH) -> np.ndarray:
    """0-based rank of each text's own motion among the motions of its batch.

    Row i of batch b ranks motion i by distance. Ties break by index (what a stable
    argsort gives); the reference's np.argsort (quicksort) leaves tie order unspecified.
    Returns an int array of length n_complete_batches * batch_size.
    """
    tb, mb = _complete_batches(text_emb, motion_emb, batch_size)
    d = euclidean_distance_matrix(tb, mb)  # (nb, B, B)
    diag = np.diagonal(d, axis1=1, axis2=2)[..., None]  # (nb, B, 1)
    idx = np.arange(batch_size)
    before = idx[None, :] < idx[:, None]  # j < i
    ranks = (d < diag).sum(-1) + ((d == diag) & before[None]).sum(-1)
    return ranks.reshape(-1)


def r_precision(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    top_k: int = R_PRECISION_TOP_K,
    batch_size: int = R_PRECISION_BATCH,
) -> np.ndarray:
    """R-precision (top-1..top_k) as in Guo et al.: within each batch of `batch_size`
    (text_i, motion_i) pairs, is motion i among the k nearest motions to text i?
    Averaged over complete batches (the last incomplete batch is dropped, as the
    reference's DataLoader(drop_last=True)). Shuffle before calling to match the
    reference's shuffled loader. Returns shape (top_k,)."""
    ranks = true_match_ranks(text_emb, motion_emb, batch_size)
    ks = np.arange(top_k)
    return (ranks[:, None] <= ks[None, :]).mean(axis=0)


def matching_distance(text_emb: np.ndarray, motion_emb: np.ndarray, batch_size: int | None = None) -> float:
    """MM-Dist: mean Euclidean distance between matched text/motion embeddings.

    With batch_size set, only complete batches count (the reference computes it as the
    trace of each 32x32 distance matrix over drop_last batches)."""
    t = _as_2d("text_emb", text_emb)
    m = _as_2d("motion_emb", motion_emb)
    if batch_size is not None:
        tb, mb = _complete_batches(t, m, batch_size)
        t, m = tb.reshape(-1, t.shape[1]), mb.reshape(-1, m.shape[1])
    if t.shape != m.shape:
        raise UserError(f"text and motion embeddings differ in shape: {t.shape} vs {m.shape}")
    return float(np.linalg.norm(t - m, axis=1).mean())


# ------------------------------------------------------- diversity / multimodality


def diversity(acts: np.ndarray, n_pairs: int = DIVERSITY_PAIRS, rng: np.random.Generator | int | None = None) -> float:
    """Mean distance between `n_pairs` random pairs (utils/metrics.py
    calculate_diversity: two independent index draws, each without replacement)."""
    a = _as_2d("acts", acts)
    if a.shape[0] <= n_pairs:
        raise UserError(f"diversity needs more than {n_pairs} samples, got {a.shape[0]}")
    g = np.random.default_rng(rng)
    first = g.choice(a.shape[0], n_pairs, replace=False)
    second = g.choice(a.shape[0], n_pairs, replace=False)
    return float(np.linalg.norm(a[first] - a[second], axis=1).mean())


def multimodality(
    acts: np.ndarray, n_pairs: int = MULTIMODALITY_PAIRS, rng: np.random.Generator | int | None = None
) -> float:
    """Mean distance between pairs of generations for the same text.

    acts: (n_texts, n_gens, d). As calculate_multimodality: one pair of index draws
    (each without replacement from n_gens) shared by all texts."""
    a = np.asarray(acts, dtype=np.float64)
    if a.ndim != 3:
        raise UserError(f"multimodality needs (n_texts, n_gens, d), got shape {a.shape}")
    if a.shape[1] <= n_pairs:
        raise UserError(f"multimodality needs more than {n_pairs} generations per text, got {a.shape[1]}")
    g = np.random.default_rng(rng)
    first = g.choice(a.shape[1], n_pairs, replace=False)
    second = g.choice(a.shape[1], n_pairs, replace=False)
    return float(np.linalg.norm(a[:, first] - a[:, second], axis=2).mean())


# ------------------------------------------------------------------ replications


@dataclass(frozen=True)
class MetricSummary:
    """Mean and 95% half-width over replications.

    ci95 = 1.96 * std / sqrt(n) with np.std's default ddof=0, exactly as
    final_evaluations.py get_metric_statistics (a population std, slightly narrower
    than the ddof=1 sample std)."""

    mean: float | np.ndarray
    ci95: float | np.ndarray
    values: np.ndarray

    @property
    def n(self) -> int:
        return int(self.values.shape[0])


def summarize(values: Sequence[float] | np.ndarray) -> MetricSummary:
    """Reference-style summary of per-replication values (n,) or (n, k)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0 or v.shape[0] == 0:
        raise UserError("summarize needs at least one replication value")
    mean = v.mean(axis=0)
    ci = 1.96 * v.std(axis=0) / np.sqrt(v.shape[0])
    if v.ndim == 1:
        return MetricSummary(float(mean), float(ci), v)
    return MetricSummary(mean, ci, v)


def replicate(fn: Callable[[np.random.Generator], float | np.ndarray], n: int = REPLICATIONS, seed: int = 0) -> MetricSummary:
    """Run fn(rng) n times with independent child generators of `seed`
    (SeedSequence.spawn) and summarise as the reference does."""
    if n < 1:
        raise UserError(f"replications must be >= 1, got {n}")
    children = np.random.SeedSequence(seed).spawn(n)
    values = [np.asarray(fn(np.random.default_rng(c)), dtype=np.float64) for c in children]
    return summarize(np.stack(values))


def t2m_metrics(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    reference: ReferenceStatistics | np.ndarray,
    rng: np.random.Generator | int | None = None,
    top_k: int = R_PRECISION_TOP_K,
    batch_size: int = R_PRECISION_BATCH,
    diversity_pairs: int = DIVERSITY_PAIRS,
    fid_method: str = "eigh",
) -> dict[str, float]:
    """One replication of the T2M table: shuffle the pairs, then R@1..k and MM-Dist
    over complete batches of 32, FID against the reference (ground-truth) motion
    statistics, Diversity over `diversity_pairs` pairs.

    FID and Diversity use every motion embedding; the reference computes them on the
    activations gathered from its drop_last loader (so they also miss the last
    incomplete batch). Identical when n is a multiple of 32 (HumanML3D test:
    4,384 = 137 x 32)."""
    ref = reference if isinstance(reference, ReferenceStatistics) else ReferenceStatistics.from_activations(reference)
    out = _shuffled_matching(text_emb, motion_emb, np.random.default_rng(rng), top_k, batch_size, diversity_pairs)
    out["FID"] = ref.fid_to(motion_emb, method=fid_method)
    return out


def _shuffled_matching(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    g: np.random.Generator,
    top_k: int,
    batch_size: int,
    diversity_pairs: int,
) -> dict[str, float]:
    t = _as_2d("text_emb", text_emb)
    m = _as_2d("motion_emb", motion_emb)
    if t.shape != m.shape:
        raise UserError(f"text and motion embeddings differ in shape: {t.shape} vs {m.shape}")
    perm = g.permutation(t.shape[0])  # the reference loader shuffles every pass
    t, m = t[perm], m[perm]
    out: dict[str, float] = {}
    rp = r_precision(t, m, top_k=top_k, batch_size=batch_size)
    for k in range(top_k):
        out[f"R@{k + 1}"] = float(rp[k])
    out["MM-Dist"] = matching_distance(t, m, batch_size=batch_size)
    out["Diversity"] = diversity(m, diversity_pairs, g)
    return out


def replicate_t2m_metrics(
    text_emb: np.ndarray | Sequence[np.ndarray],
    motion_emb: np.ndarray | Sequence[np.ndarray],
    reference_motion_emb: np.ndarray,
    n: int = REPLICATIONS,
    seed: int = 0,
    top_k: int = R_PRECISION_TOP_K,
    batch_size: int = R_PRECISION_BATCH,
    diversity_pairs: int = DIVERSITY_PAIRS,
    fid_method: str = "eigh",
) -> dict[str, MetricSummary]:
    """`t2m_metrics` over n replications -> {"R@1".., "MM-Dist", "FID", "Diversity"}.

    Pass one array each (the same generations reshuffled per replication: our CPU
    protocol) or a sequence of n arrays (fresh generations per replication: the paper
    protocol). Reference statistics are computed once; FID does not depend on the
    shuffle, so it is computed once per distinct motion array."""
    ref = ReferenceStatistics.from_activations(reference_motion_emb)
    texts = _per_replication(text_emb, n, "text_emb")
    motions = _per_replication(motion_emb, n, "motion_emb")
    fid_by_array: dict[int, float] = {}
    rows: list[dict[str, float]] = []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n)):
        row = _shuffled_matching(texts[i], motions[i], np.random.default_rng(child), top_k, batch_size, diversity_pairs)
        key = id(motions[i])
        if key not in fid_by_array:
            fid_by_array[key] = ref.fid_to(motions[i], method=fid_method)
        row["FID"] = fid_by_array[key]
        rows.append(row)
    return {k: summarize([r[k] for r in rows]) for k in rows[0]}


def _per_replication(x: np.ndarray | Sequence[np.ndarray], n: int, name: str) -> list[np.ndarray]:
    if isinstance(x, np.ndarray):
        arr = _as_2d(name, x)
        return [arr] * n
    items = [_as_2d(name, a) for a in x]
    if len(items) != n:
        raise UserError(f"{name}: got {len(items)} arrays for {n} replications")
    return items
