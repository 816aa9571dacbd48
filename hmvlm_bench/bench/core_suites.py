"""Benchmark suites the core owns: metric computation and evaluator encoding throughput.

Suites that need the reference model live with it (`reference_model/bench_suites.py`) and reach
the harness through the `benchmarks` registry; the core registers these under `core_*` names.
"""
from __future__ import annotations

from hmvlm_bench.bench.records import BenchRecord
from hmvlm_bench.bench.shapes import resolve_shapes
from hmvlm_bench.bench.timing import time_fn

HUMANML3D_TEST_SIZE = 4384  # Guo et al. 2022 HumanML3D test split
EMBED_DIM = 512  # evaluator embedding width (Guo et al. text-motion matching model)
MAX_FRAMES = 196  # HumanML3D maximum motion length (frames at 20 fps)


def metrics_suite(device: str, shapes: str, batch_sizes: list[int], quick: bool) -> list[BenchRecord]:
    """The HumanML3D T2M table (R-precision, MM-Dist, FID, Diversity) over 20 replications from
    precomputed embeddings: numpy on the CPU whatever `device` is."""
    import numpy as np

    from hmvlm_bench.metrics.motion import REPLICATIONS, replicate_t2m_metrics

    tiny = resolve_shapes(shapes, device, quick).name == "tiny"
    n_items = 512 if tiny else HUMANML3D_TEST_SIZE  # > 300 diversity pairs
    reps = 2 if tiny or quick else REPLICATIONS
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(n_items, EMBED_DIM))
    text = gt + 0.8 * rng.normal(size=gt.shape)
    gen = gt + 0.3 * rng.normal(size=gt.shape)
    replicate_t2m_metrics(text[:400], gen[:400], gt[:400], n=1)  # imports and first-call costs, untimed
    stats = time_fn(lambda: replicate_t2m_metrics(text, gen, gt, n=reps), "cpu", warmup=0,
                    repeats=1 if quick or tiny or device == "cpu" else 3)  # one full table is ~1-25 s on 2 cores
    params = {"motions": n_items, "embed_dim": EMBED_DIM, "replications": reps, "backend": "numpy (cpu)"}
    return [
        BenchRecord("t2m_table.seconds", stats.median, "s", params=params),
        BenchRecord("t2m_table.replications_per_s", reps / stats.median, "rep/s", higher_is_better=True,
                    params=params),
    ]


def evaluator_suite(device: str, shapes: str, batch_sizes: list[int], quick: bool) -> list[BenchRecord]:
    """Motion encoding by the contrastive evaluator (conv + BiGRU, random weights at the
    preset's shapes): motions/s at 196 frames (64 for tiny)."""
    import torch

    from hmvlm_bench.evaluators.contrastive import _build_model, evaluator_config_for_preset

    shp = resolve_shapes(shapes, device, quick)
    preset = {"tiny": "tiny", "mini": "mini"}.get(shp.name, "paper")
    cfg = evaluator_config_for_preset(preset)
    cuda = str(device).startswith("cuda")
    batch = 4 if shp.name == "tiny" else (16 if quick else (256 if cuda else 32))
    frames = 64 if shp.name == "tiny" else MAX_FRAMES
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = _build_model(cfg).to(device).eval()
        x = torch.randn(batch, frames, cfg.feature_dim, device=device)
    lens = torch.full((batch,), frames, dtype=torch.long, device=device)

    def run() -> None:
        with torch.no_grad():
            model.embed_motion(x, lens)

    stats = time_fn(run, device, warmup=1, repeats=2 if quick else (5 if cuda else 3))
    params = {"evaluator_preset": preset, "batch": batch, "frames": frames, "weights": "random"}
    return [BenchRecord("encode_motion.motions_per_s", batch / stats.median, "motions/s", higher_is_better=True,
                        params=params)]


CORE_SUITES = {
    "core_metrics": "hmvlm_bench.bench.core_suites:metrics_suite",
    "core_evaluator": "hmvlm_bench.bench.core_suites:evaluator_suite",
}
