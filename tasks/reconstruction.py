"""Tokenizer reconstruction: encode then decode test motions (normalised features).

Metrics (means over samples, percentile-bootstrap 95% CIs):
- `mse`: mean squared error of the normalised features (the HMVLM paper's reconstruction
  MSE), per sample over its frames and all feature dims;
- `mpjpe` (mm): joints recovered from the denormalised features (`features_to_joints`),
  pelvis-aligned per frame (263-d data only);
- `mse_<part>` / `mpjpe_<part>` for the five HMVLM BODY_PARTS: the part's joints' feature
  dims (the per-joint grouping of `reference_model.tokenizer.per_joint`; root dims belong
  to the torso) and the part's joints;
- `codebook_usage` (fraction of the K codes used over the whole test set) and
  `codebook_perplexity` (exp entropy of the code histogram), averaged over streams, when
  predictions carry `info["codes"]` (T', n_streams) and `info["codebook_size"]`;
  per-stream numbers in `extra["codebooks"]`;
- `fid`: FID of the evaluator embeddings of reconstructions vs originals (when an
  evaluator exists for the dataset; `fid: false` turns it off).

Length: tokenizers crop to a multiple of the unit length, so a reconstruction may be up
to `max_crop` (8) frames shorter: both are compared on the common prefix and the cropped
frames are counted in `extra`. Shorter still, or non-finite, marks a sample failed; the
wrong feature width is a model error.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hmvlm_bench import taskkit as kit
from hmvlm_bench.contracts import Capability, MetricSpec, TaskResult, TokenizeRequest
from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import BODY_PARTS, FEATURE_DIM, PART_NAMES
from hmvlm_bench.seeding import derive_seed

MAX_CROP = 8  # two motion tokens at temporal downsampling l = 4

RECON_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("mse", False, "Recon. MSE", format=".3f"),
    MetricSpec("mpjpe", False, "MPJPE", "mm", ".1f"),
    MetricSpec("codebook_perplexity", True, "Codebook ppl", format=".1f"),
    MetricSpec("codebook_usage", True, "Codebook usage", format=".3f"),
    MetricSpec("fid", False, "FID (recon.)", format=".3f"),
    MetricSpec("failure_rate", False, "Failed samples", format=".1%"),
    # per body part: after the columns, labelled "Recon. MSE (left arm)", "MPJPE (mm) (torso)"
    *(MetricSpec(f"mse_{p}", False, f"MSE {p}", column=False) for p in PART_NAMES),
    *(MetricSpec(f"mpjpe_{p}", False, f"MPJPE {p}", "mm", column=False) for p in PART_NAMES),
)


def part_feature_dims() -> dict[str, np.ndarray]:
    """Feature indices (into the 263-d vector) owned by each body part's joints."""
    from reference_model.tokenizer.per_joint import JOINT_INDEX

    return {p: np.sort(JOINT_INDEX[list(js)][JOINT_INDEX[list(js)] >= 0]) for p, js in BODY_PARTS.items()}


def codebook_stats(codes: list[np.ndarray], size: int | None) -> list[dict[str, Any]]:
    """Per stream over all samples' codes (T', n_streams): distinct codes `used`,
    `usage` = used / size (None when the size is unknown), `perplexity` = exp(entropy of
    the code histogram), as T2M-GPT logs it."""
    allc = np.concatenate(codes, axis=0).astype(np.int64)
    out = []
    for s in range(allc.shape[1]):
        _, counts = np.unique(allc[:, s], return_counts=True)
        p = counts / counts.sum()
        used = int(counts.size)
        if size is not None and allc[:, s].max() >= size:
            raise kit.ModelOutputError(f"code {int(allc[:, s].max())} out of range for codebook_size {size}")
        out.append({"used": used, "size": size, "usage": None if not size else kit.rounded(used / size),
                    "perplexity": kit.rounded(float(np.exp(-(p * np.log(p)).sum())))})
    return out


@dataclass(frozen=True)
class ReconstructionOptions(kit.FailureBudgetOptions):
    """Options of the tokenizer round trip (`--task-option reconstruction.NAME=VALUE`)."""

    split: str | None = kit.opt(None, "split to reconstruct (default: test)")
    fid: bool | None = kit.opt(None, "score FID through the evaluator (default: on, off for BVH data)")
    max_crop: int = kit.opt(MAX_CROP, "frames a tokenizer may drop at the end (whole tokens)", minimum=0)


class ReconstructionTask(kit.SplitTask):
    name: ClassVar[str] = "reconstruction"
    version: ClassVar[int] = 1
    requires: ClassVar[Capability] = Capability.TOKENIZE_MOTION
    metrics: ClassVar[tuple[MetricSpec, ...]] = RECON_METRICS
    main_metric: ClassVar[str] = "mse"
    display_name: ClassVar[str] = "Tokenizer reconstruction"
    description: ClassVar[str] = "Tokenizer round trip on test motions (MSE, MPJPE, per-part errors, codebook use, FID)"
    dataset_name: ClassVar[str] = "synthetic"
    split: ClassVar[str] = "test"
    default_fid: ClassVar[bool] = True
    Options: ClassVar[type[kit.TaskOptions]] = ReconstructionOptions

    # ------------------------------------------------------------------ settings
    def _settings(self, ctx) -> dict[str, Any]:
        o: ReconstructionOptions = kit.read_options(self, ctx)
        return {**self.split_settings(ctx, o, split=o.split),
                "fid": self.default_fid if o.fid is None else o.fid, "max_crop": o.max_crop}

    def _evaluator(self, ctx, s) -> tuple[Any | None, str | None]:
        if not s["fid"]:
            return None, "disabled"
        try:
            return ctx.evaluator(s["dataset"]), None
        except (UserError, ImportError) as exc:
            return None, f"unavailable: {exc}"

    def config_extra(self, ctx, s) -> dict[str, Any]:
        ev, _ = self._evaluator(ctx, s)
        return {"evaluator": kit.evaluator_info(ev) if ev is not None else None}

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, model, ctx) -> TaskResult:
        s = self._settings(ctx)
        ds, items = self._items(ctx, s)
        normed = [ds.normalize(it.features).astype(np.float32) for it in items]
        reqs = [TokenizeRequest(sample_id=it.id, dataset=s["dataset"], features=x,
                                seed=derive_seed(ctx.seed, it.id), target=x) for it, x in zip(items, normed)]
        preds = kit.call_model(model.reconstruct_motion, reqs, ctx, self.name)

        dim = ds.spec.feature_dim
        failed: dict[str, str] = {}
        recs: list[np.ndarray | None] = []
        cropped = 0
        for it, x, p in zip(items, normed, preds):
            arr, why = kit.check_motion(kit.pred_value(p), dim, it.id, min_len=max(1, len(x) - s["max_crop"]))
            if why is not None:
                failed[it.id] = why
                recs.append(None)
                continue
            n = min(len(x), len(arr))
            cropped += len(x) - n
            recs.append(arr[:n])
        kit.enforce_failure_budget(self.name, failed, len(items), s["max_failure_rate"])
        ok = [i for i, r in enumerate(recs) if r is not None]

        per = self._per_sample_errors([normed[i][: len(recs[i])] for i in ok], [recs[i] for i in ok], ds,
                                      dim == FEATURE_DIM)
        seed = derive_seed(ctx.seed, self.name, "bootstrap")
        metrics = {k: kit.bootstrap_metric(v, False, seed) for k, v in per.items()}
        metrics["failure_rate"] = kit.point_metric(len(failed) / len(items), False, len(items))
        extra: dict[str, Any] = {"cropped_frames": cropped, "n_failed": len(failed),
                                 "mse_space": "normalised features (dataset Mean/Std)",
                                 "mpjpe": "pelvis-aligned per frame, joints from features_to_joints"
                                 if dim == FEATURE_DIM else f"skipped: {dim}-d features"}

        books = self._codebooks([preds[i] for i in ok])
        if books is not None:
            extra["codebooks"] = books
            usage = [b["usage"] for b in books.values() if b["usage"] is not None]
            if usage:
                metrics["codebook_usage"] = kit.point_metric(float(np.mean(usage)), True)
            metrics["codebook_perplexity"] = kit.point_metric(
                float(np.mean([b["perplexity"] for b in books.values()])), True)

        ev, why = self._evaluator(ctx, s)
        evaluator = None
        if ev is not None and len(ok) >= 2:
            from hmvlm_bench.metrics.motion import fid

            real = kit.embed_motions(ev, ds, [items[i].features[: len(recs[i])] for i in ok])
            fake = kit.embed_motions(ev, ds, [ds.denormalize(recs[i]) for i in ok])
            value = fid(real, fake)
            metrics["fid"] = kit.point_metric(max(0.0, value), False, len(ok))  # round-off below 0
            evaluator = kit.evaluator_info(ev)
        else:
            extra["fid"] = why or "needs >= 2 samples"

        keys = list(per)
        samples = []
        pos = {i: k for k, i in enumerate(ok)}
        for i, it in enumerate(items):
            row: dict[str, Any] = {"id": it.id, "length": it.length, "failed": failed.get(it.id)}
            if i in pos:
                row["reconstructed_length"] = int(len(recs[i]))
                row.update({k: kit.rounded(per[k][pos[i]]) for k in keys if k in ("mse", "mpjpe")})
            samples.append(row)
        return TaskResult(metrics=metrics, n_samples=len(items), samples=samples, extra=extra,
                          dataset=kit.dataset_info(ds, s["dataset"], s["split"], len(items), s["limit"]),
                          evaluator=evaluator)

    @staticmethod
    def _per_sample_errors(gts: list[np.ndarray], recs: list[np.ndarray], ds, joints: bool) -> dict[str, np.ndarray]:
        from hmvlm_bench.motion.features import features_to_joints

        dims = part_feature_dims() if joints else {}
        out: dict[str, list[float]] = {"mse": []}
        for p in dims:
            out[f"mse_{p}"] = []
        if joints:
            out["mpjpe"] = []
            for p in BODY_PARTS:
                out[f"mpjpe_{p}"] = []
        for g, r in zip(gts, recs):
            g, r = g.astype(np.float64), r.astype(np.float64)
            sq = (r - g) ** 2
            out["mse"].append(float(sq.mean()))
            for p, d in dims.items():
                out[f"mse_{p}"].append(float(sq[:, d].mean()))
            if joints:
                jg = features_to_joints(ds.denormalize(g))
                jr = features_to_joints(ds.denormalize(r))
                err = np.linalg.norm((jr - jr[:, :1]) - (jg - jg[:, :1]), axis=-1) * 1000.0  # (T, 22) mm
                out["mpjpe"].append(float(err.mean()))
                for p, js in BODY_PARTS.items():
                    out[f"mpjpe_{p}"].append(float(err[:, list(js)].mean()))
        return {k: np.asarray(v) for k, v in out.items()}

    @staticmethod
    def _codebooks(preds: list[Any]) -> dict[str, dict[str, Any]] | None:
        infos = [kit.pred_info(p) for p in preds]
        if not infos or any("codes" not in i for i in infos):
            return None
        codes = []
        for i in infos:
            c = np.asarray(kit.as_array(i["codes"], "codes"))
            codes.append(c.reshape(-1, 1) if c.ndim == 1 else c.reshape(c.shape[0], -1))
        if len({c.shape[1] for c in codes}) != 1:
            raise kit.ModelOutputError("codes differ in stream count between samples")
        size = infos[0].get("codebook_size")
        stats = codebook_stats(codes, int(size) if size else None)
        names = infos[0].get("streams") or (list(PART_NAMES) if len(stats) == len(PART_NAMES) else None)
        names = list(names) if names else [f"stream{s}" for s in range(len(stats))]
        if len(names) != len(stats):
            raise kit.ModelOutputError(f"info['streams'] names {len(names)} streams, codes have {len(stats)}")
        return dict(zip(names, stats))


class ReconstructionBVHTask(ReconstructionTask):
    """The round trip on real, out-of-distribution motion imported from BVH files
    (`hmvlm-bench data import-bvh SRC OUT`, then `--data bvh=OUT`). No captions, so no
    evaluator: FID is off by default."""

    name = "reconstruction_bvh"
    dataset_name = "bvh"
    default_fid = False
    description = "Tokenizer round trip on imported BVH motion capture (--data bvh=DIR)"
    display_name = "Tokenizer reconstruction (BVH)"

    def dataset(self, ctx) -> str:
        return self.options.get("dataset") or self.dataset_name

    def preflight(self, ctx) -> list[str]:
        return [] if self.dataset_name in ctx.data.paths else [f"--data {self.dataset_name}=DIR"]

    def _dataset(self, ctx, s):
        from hmvlm_bench.motion.dataset import load_dataset

        if s["dataset"] not in ctx.data.paths:
            raise UserError(f"{self.name} needs an imported BVH folder: pass --data {s['dataset']}=DIR "
                            "(make one with `hmvlm-bench data import-bvh SRC DIR`)")
        key = ("bvh-dataset", s["dataset"], s["split"])
        if key not in ctx._cache:
            ds = load_dataset(Path(ctx.data.paths[s["dataset"]]), s["split"], kind="humanml3d",
                              name=s["dataset"], require_captions=False)
            if len(ds) == 0:
                raise UserError(f"{s['dataset']}: split '{s['split']}' has no clip of "
                                f"{ds.spec.min_len}..{ds.spec.max_len_exclusive - 1} frames")
            ctx._cache[key] = ds
        return ctx._cache[key]
