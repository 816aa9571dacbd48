"""Text-to-motion (HumanML3D protocol, Guo et al. 2022 `final_evaluations.py`).

Per test item: one caption drawn with a per-sample seed (the reference loader draws
`random.choice(text_list)`), a request with the ground-truth length, one generation
(seed = derive_seed(run seed, sample id)). The evaluator embeds captions, generations and
the real motions (the FID reference). Then `replications` times: shuffle, R@1-3 and
MM-Dist over complete batches of 32, FID against the real motions, Diversity over 300
random pairs; reported as mean +- 1.96 std / sqrt(replications).

Protocol note (recorded in `extra["protocol"]`): the reference *regenerates* every
replication; on a CPU we generate once and the replications re-draw the batches and
pairs, so the CI covers batching/pair noise only, not generation noise. `regenerate:
true` restores the reference behaviour (replications x the generation cost). With fewer
than 32 (300) evaluated samples the R-precision batch (Diversity pairs) shrinks to n (n-1):
recorded in `extra`; such numbers are not comparable with published ones.

Protocols (`protocol` option, `tasks/protocols.py`): the above is `bench`, the default on
the synthetic dataset. `guo`, the default on HumanML3D/KIT-ML, is the published protocol:
every replication re-draws each item's caption and the reference crop of its motion
(random offset, a multiple of 4 frames, one unit shorter with probability 1/3), asks for
a motion of the cropped length, and scores against that replication's crops; so it
generates `replications` times. Its MultiModality draws `mm_texts` items per
replication and samples a length per repeat with Guo et al.'s length estimator
(`mm_length: estimator`, needs `length_est_bigru/` beside the evaluator) or uses the
crop length for every repeat (`mm_length: gt`, as MDM does).

Options (`--task-option t2m.NAME=VALUE`): protocol, replications (preset),
max_failure_rate (0.05), regenerate (false), multimodality (false), mm_texts (100),
mm_generations (30), mm_pairs (10), mm_length (estimator; guo only).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hmvlm_bench import taskkit as kit
from hmvlm_bench.contracts import Capability, MetricSpec, MetricValue, MotionRequest, TaskResult
from hmvlm_bench.errors import UserError
from hmvlm_bench.seeding import derive_seed
from tasks import protocols as P

T2M_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("r_precision_top1", True, "R@1", format=".3f"),
    MetricSpec("r_precision_top2", True, "R@2", format=".3f"),
    MetricSpec("r_precision_top3", True, "R@3", format=".3f"),
    MetricSpec("fid", False, "FID", format=".3f"),
    MetricSpec("mm_dist", False, "MM-Dist", format=".3f"),
    MetricSpec("diversity", None, "Diversity", format=".3f"),  # closer to the real motions' value
    MetricSpec("multimodality", True, "MModality", format=".3f"),  # only with multimodality: true
    MetricSpec("failure_rate", False, "Failed samples", format=".1%"),
)

# Reference MultiModality sizes (Guo et al. final_evaluations.py: mm_num_samples,
# mm_num_repeats, mm_num_times).
MM_TEXTS, MM_GENERATIONS, MM_PAIRS = 100, 30, 10
# Frames of ground truth given with the first/last-token prompts: one motion token
# (HMVLM/T2M-GPT temporal downsampling l = 4).
HINT_FRAMES = 4


@dataclass(frozen=True)
class T2MOptions(kit.FailureBudgetOptions, kit.ReplicatedOptions):
    """Options of the text-to-motion tasks (`--task-option t2m.NAME=VALUE`)."""

    protocol: str | None = kit.opt(None, "evaluation protocol (default: guo on HumanML3D/KIT-ML, else bench)",
                                   choices=kit.PROTOCOLS, normalize=True)
    regenerate: bool = kit.opt(False, "generate again for every replication (the reference protocol)")
    multimodality: bool = kit.opt(False, "also score MultiModality")
    mm_texts: int = kit.opt(MM_TEXTS, "MultiModality: texts drawn", minimum=1)
    mm_generations: int = kit.opt(MM_GENERATIONS, "MultiModality: generations per text", minimum=2)
    mm_pairs: int = kit.opt(MM_PAIRS, "MultiModality: pairs per text (< mm_generations)", minimum=1)
    mm_length: str = kit.opt("estimator", "MultiModality lengths under protocol guo: Guo et al.'s length "
                             "estimator, or the crop length (gt)", choices=("estimator", "gt"), normalize=True)

    def check(self, task_name: str) -> None:
        if self.multimodality and self.mm_pairs >= self.mm_generations:
            raise UserError(f"{task_name}: mm_pairs ({self.mm_pairs}) must be < mm_generations "
                            f"({self.mm_generations})")


class T2MTask(kit.EvaluatedSplitTask):
    name: ClassVar[str] = "t2m"
    version: ClassVar[int] = 1
    requires: ClassVar[Capability] = Capability.GENERATE_MOTION
    metrics: ClassVar[tuple[MetricSpec, ...]] = T2M_METRICS
    main_metric: ClassVar[str] = "r_precision_top3"
    description: ClassVar[str] = "Text-to-motion, plain text prompt (HumanML3D protocol: R-precision, FID, MM-Dist, Diversity)"
    display_name: ClassVar[str] = "Text-to-motion"
    dataset_name: ClassVar[str] = "synthetic"
    split: ClassVar[str] = "test"
    variant: ClassVar[str] = "text"

    Options: ClassVar[type[kit.TaskOptions]] = T2MOptions

    # ------------------------------------------------------------------ settings
    def _settings(self, ctx) -> dict[str, Any]:
        o: T2MOptions = kit.read_options(self, ctx)
        out = self.split_settings(ctx, o)
        protocol = out["protocol"]
        out.update(variant=self.variant, regenerate=o.regenerate, multimodality=o.multimodality)
        if protocol == P.GUO:
            out["regenerate"] = True  # captions and crops change every replication
        if o.multimodality:
            out["mm_texts"], out["mm_generations"], out["mm_pairs"] = o.mm_texts, o.mm_generations, o.mm_pairs
            if protocol == P.GUO:
                out["mm_length"] = o.mm_length
        return out

    def preflight(self, ctx) -> list[str]:
        missing = super().preflight(ctx)
        if missing:
            return missing
        try:  # the settings read the dataset (its kind picks the protocol): a bad one is one more item
            s = self._settings(ctx)
        except UserError as exc:
            return [str(exc)]
        if s.get("mm_length") == "estimator" and self._length_estimator_file(ctx, s["dataset"]) is None:
            missing.append(f"{self.name}: MultiModality under protocol guo samples lengths with Guo et al.'s "
                           f"length estimator: put length_est_bigru/model/latest.tar beside the evaluator, "
                           f"or pass --task-option {self.name}.mm_length=gt")
        return missing

    @staticmethod
    def _length_estimator_file(ctx, dataset: str) -> Path | None:
        from hmvlm_bench.evaluators.guo_t2m import length_estimator_path

        root = ctx.evaluator_paths.get(dataset)
        return None if root is None else length_estimator_path(root, dataset)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, model, ctx) -> TaskResult:
        s = self._settings(ctx)
        if s["protocol"] == P.GUO:
            return self._evaluate_guo(model, ctx, s)
        ev = ctx.evaluator(s["dataset"])
        ds, items = self._items(ctx, s)
        captions = [random.Random(derive_seed(ctx.seed, "caption", it.id)).choice(it.captions) for it in items]

        reps = s["replications"]
        rounds = reps if s["regenerate"] else 1
        gens: list[list[Any]] = []
        for r in range(rounds):
            reqs = [self._request(it, cap, s["dataset"], derive_seed(ctx.seed, it.id) if r == 0 else
                                  derive_seed(ctx.seed, it.id, "round", r))
                    for it, cap in zip(items, captions)]
            gens.append(kit.call_model(model.generate_motion, reqs, ctx, self.name))

        dim = ds.spec.feature_dim
        failed: dict[str, str] = {}
        motions: list[list[np.ndarray | None]] = []
        mismatch = 0
        for preds in gens:
            row: list[np.ndarray | None] = []
            for it, p in zip(items, preds):
                arr, why = kit.check_motion(kit.pred_value(p), dim, it.id, min_len=4)
                if why is not None:
                    failed.setdefault(it.id, why)
                elif arr.shape[0] != it.length:
                    mismatch += 1
                row.append(arr)
            motions.append(row)
        kit.enforce_failure_budget(self.name, failed, len(items), s["max_failure_rate"])
        ok = [i for i, it in enumerate(items) if it.id not in failed]
        proto = kit.MatchingProtocol.for_n(len(ok))

        text_emb = kit.embed_texts(ev, [captions[i].text for i in ok], [captions[i].tokens for i in ok])
        real_emb = kit.embed_motions(ev, ds, [it.features for it in items])
        gen_embs = [kit.embed_motions(ev, ds, [row[i] for i in ok]) for row in motions]

        metrics = self._replicated(text_emb, gen_embs, real_emb, reps, proto,
                                   derive_seed(ctx.seed, self.name, "replications"))
        metrics["failure_rate"] = kit.point_metric(len(failed) / len(items), False, len(items))
        extra: dict[str, Any] = {
            "eval_protocol": s["protocol"],
            "protocol": ("generate once per replication (reference)" if s["regenerate"] else
                         "generate once; replications re-shuffle batches and re-draw diversity pairs "
                         "(the reference regenerates every replication)"),
            **proto.as_dict(),
            "n_failed": len(failed),
            "length_mismatch": mismatch,
            "caption_choice": "random.Random(derive_seed(seed, 'caption', id)).choice(captions)",
            "request_length": "ground-truth length",
        }
        if s["multimodality"]:
            mm, mm_extra = self._multimodality(model, ctx, ds, ev, [items[i] for i in ok],
                                               [captions[i] for i in ok], s)
            metrics["multimodality"] = mm
            extra.update(mm_extra)
        gate = _mean_gate(gens[0])
        if gate is not None:
            extra["gate_weights"] = {self.name: gate}

        dist = np.linalg.norm(text_emb - gen_embs[0], axis=1)
        pos = {i: k for k, i in enumerate(ok)}
        samples = []
        for i, (it, cap) in enumerate(zip(items, captions)):
            row = motions[0][i]
            samples.append({
                "id": it.id, "caption": cap.text, "length": it.length,
                "generated_length": None if row is None else int(row.shape[0]),
                "text_motion_distance": kit.rounded(dist[pos[i]]) if i in pos else None,
                "failed": failed.get(it.id),
                "gate": _gate_list(gens[0][i]),
            })
        return TaskResult(metrics=metrics, n_samples=len(items), samples=samples, extra=extra,
                          dataset=kit.dataset_info(ds, s["dataset"], self.split, len(items), s["limit"]),
                          evaluator=kit.evaluator_info(ev))

    # ------------------------------------------------------------------ guo protocol
    def _guo_draw(self, ctx, item, rep: int) -> tuple[Any, int, int]:
        """(caption, crop start, crop length) of `item` in replication `rep`: the reference
        loader's random.choice of a caption, then its crop (`protocols.guo_crop`)."""
        rng = random.Random(derive_seed(ctx.seed, "t2m-guo", item.id, rep))
        cap = rng.choice(item.captions)
        start, n = P.guo_crop(item.length, rng)
        return cap, start, n

    def _evaluate_guo(self, model, ctx, s) -> TaskResult:
        from hmvlm_bench.metrics.motion import t2m_metrics

        ev = ctx.evaluator(s["dataset"])
        ds, items = self._items(ctx, s)
        reps, dim = s["replications"], ds.spec.feature_dim
        failed: dict[str, str] = {}  # "<id>@<replication>" -> reason
        rows: list[dict[str, float]] = []
        first: dict[str, Any] = {}
        mismatch = 0
        for r in range(reps):
            draws = [self._guo_draw(ctx, it, r) for it in items]
            crops = [it.features[a:a + n] for it, (_, a, n) in zip(items, draws)]
            reqs = [self._request(it, cap, s["dataset"], derive_seed(ctx.seed, it.id, "guo", r), features=c)
                    for it, (cap, _, _), c in zip(items, draws, crops)]
            preds = kit.call_model(model.generate_motion, reqs, ctx, f"{self.name} (replication {r + 1}/{reps})")
            gens: list[np.ndarray | None] = []
            for it, c, p in zip(items, crops, preds):
                arr, why = kit.check_motion(kit.pred_value(p), dim, it.id, min_len=4)
                if why is not None:
                    failed[f"{it.id}@{r}"] = why
                elif arr.shape[0] != len(c):
                    mismatch += 1
                gens.append(arr)
            kit.enforce_failure_budget(self.name, failed, len(items) * (r + 1), s["max_failure_rate"])
            ok = [i for i, g in enumerate(gens) if g is not None]
            proto = kit.MatchingProtocol.for_n(len(ok))
            text_emb = kit.embed_texts(ev, [draws[i][0].text for i in ok], [draws[i][0].tokens for i in ok])
            gen_emb = kit.embed_motions(ev, ds, [gens[i] for i in ok])
            real_emb = kit.embed_motions(ev, ds, crops)
            rows.append(t2m_metrics(text_emb, gen_emb, real_emb, derive_seed(ctx.seed, self.name, "guo-rep", r),
                                    batch_size=proto.batch_size, diversity_pairs=proto.diversity_pairs))
            if r == 0:
                dist = np.linalg.norm(text_emb - gen_emb, axis=1)
                first = {"draws": draws, "gens": gens, "preds": preds, "proto": proto,
                         "dist": {i: float(d) for i, d in zip(ok, dist)}}
        names = {"R@1": "r_precision_top1", "R@2": "r_precision_top2", "R@3": "r_precision_top3",
                 "FID": "fid", "MM-Dist": "mm_dist", "Diversity": "diversity"}
        hib = {m.name: m.higher_is_better for m in T2M_METRICS}
        metrics = {names[k]: kit.summary_metric([max(0.0, row[k]) if k == "FID" else row[k] for row in rows],
                                              hib[names[k]]) for k in names}
        metrics["failure_rate"] = kit.point_metric(len(failed) / (len(items) * reps), False, len(items) * reps)
        extra: dict[str, Any] = {
            "eval_protocol": P.GUO,
            "protocol": ("guo: every replication re-draws each caption and the reference crop of its motion, "
                         "generates at the crop length and scores against that replication's crops"),
            **first["proto"].as_dict(),
            "n_failed": len(failed),
            "length_mismatch": mismatch,
            "caption_choice": "random.Random(derive_seed(seed, 't2m-guo', id, replication)).choice(captions)",
            "request_length": "crop length (multiple of 4; one unit shorter with probability 1/3)",
        }
        if s["multimodality"]:
            mm, mm_extra = self._multimodality_guo(model, ctx, ds, ev, items, s)
            metrics["multimodality"] = mm
            extra.update(mm_extra)
        gate = _mean_gate(first["preds"])
        if gate is not None:
            extra["gate_weights"] = {self.name: gate}
        samples = []
        for i, (it, (cap, a, n)) in enumerate(zip(items, first["draws"])):
            g = first["gens"][i]
            samples.append({
                "id": it.id, "caption": cap.text, "length": it.length, "crop": [a, n],
                "generated_length": None if g is None else int(g.shape[0]),
                "text_motion_distance": kit.rounded(first["dist"][i]) if i in first["dist"] else None,
                "failed": failed.get(f"{it.id}@0"),
                "gate": _gate_list(first["preds"][i]),
            })
        return TaskResult(metrics=metrics, n_samples=len(items), samples=samples, extra=extra,
                          dataset=kit.dataset_info(ds, s["dataset"], self.split, len(items), s["limit"]),
                          evaluator=kit.evaluator_info(ev))

    def _multimodality_guo(self, model, ctx, ds, ev, items, s) -> tuple[MetricValue, dict[str, Any]]:
        """Per replication (final_evaluations.py rebuilds its loaders each time): draw
        `mm_texts` items without replacement, take that replication's caption, generate
        `mm_generations` motions each at a sampled length (or the crop length), and
        average `mm_pairs` pair distances (`metrics.motion.multimodality`)."""
        from hmvlm_bench.metrics.motion import multimodality

        n_texts = min(s["mm_texts"], len(items))
        g, pairs = s["mm_generations"], s["mm_pairs"]
        estimator = None
        if s["mm_length"] == "estimator":
            from hmvlm_bench.evaluators.guo_t2m import GuoLengthEstimator

            path = self._length_estimator_file(ctx, s["dataset"])
            if path is None:
                raise UserError(f"{self.name}: mm_length=estimator needs length_est_bigru/model/latest.tar "
                                f"beside the evaluator (or mm_length=gt)")
            if getattr(ev, "vectorizer", None) is None:  # the estimator reads GloVe + POS like the evaluator
                raise UserError(f"{self.name}: mm_length=estimator needs Guo et al.'s evaluator (its GloVe "
                                f"vectors); with {getattr(ev, 'name', 'this evaluator')} use mm_length=gt")
            estimator = GuoLengthEstimator(path, ev.vectorizer, dataset=ds.spec.kind)
        values = []
        for r in range(s["replications"]):
            rng = np.random.default_rng(derive_seed(ctx.seed, self.name, "guo-mm", r))
            chosen = np.sort(rng.choice(len(items), n_texts, replace=False))
            reqs = []
            for i in chosen:
                it = items[int(i)]
                cap, a, n = self._guo_draw(ctx, it, r)
                lengths = ([n] * g if estimator is None else
                           estimator.sample_lengths(cap.tokens, g, np.random.default_rng(
                               derive_seed(ctx.seed, it.id, "guo-mm-len", r))))
                reqs += [self._request(it, cap, s["dataset"], derive_seed(ctx.seed, it.id, "guo-mm", r, k),
                                       features=it.features[a:a + n], length=lengths[k]) for k in range(g)]
            preds = kit.call_model(model.generate_motion, reqs, ctx, f"{self.name} multimodality ({r + 1}/{s['replications']})")
            emb = kit.embed_motions(ev, ds, self._mm_motions(reqs, preds, ds)).reshape(n_texts, g, -1)
            values.append(multimodality(emb, pairs, rng))
        how = ("Guo et al. length estimator, a length per repeat" if estimator is not None
               else "the crop length for every repeat (MDM)")
        out = {"mm_texts": n_texts, "mm_generations": g, "mm_pairs": pairs, "mm_length": how}
        if estimator is not None:
            out["length_estimator"] = estimator.fingerprint
        return kit.summary_metric(values, True), out

    def _request(self, item, caption, dataset: str, seed: int, features: np.ndarray | None = None,
                 length: int | None = None) -> MotionRequest:
        """`features`: the real motion the request stands for (default the whole clip; the
        guo protocol passes its crop); `length`: frames asked for (default its length)."""
        feats = item.features if features is None else features
        hint = None
        if self.variant == "first_token":
            hint = feats[:HINT_FRAMES]
        elif self.variant == "last_token":
            hint = feats[-HINT_FRAMES:]
        return kit.make_request(MotionRequest, sample_id=item.id, dataset=dataset, text=caption.text,
                              length=len(feats) if length is None else int(length), variant=self.variant,
                              seed=seed, target=feats, hint=hint)

    @staticmethod
    def _replicated(text_emb: np.ndarray, gen_embs: list[np.ndarray], real_emb: np.ndarray, reps: int,
                    proto: "kit.MatchingProtocol", seed: int) -> dict[str, MetricValue]:
        from hmvlm_bench.metrics.motion import replicate_t2m_metrics

        motion = gen_embs[0] if len(gen_embs) == 1 else gen_embs
        out = replicate_t2m_metrics(text_emb, motion, real_emb, n=reps, seed=seed,
                                    batch_size=proto.batch_size, diversity_pairs=proto.diversity_pairs)
        names = {"R@1": "r_precision_top1", "R@2": "r_precision_top2", "R@3": "r_precision_top3",
                 "FID": "fid", "MM-Dist": "mm_dist", "Diversity": "diversity"}
        hib = {m.name: m.higher_is_better for m in T2M_METRICS}
        res = {names[k]: kit.summary_metric(v.values, hib[names[k]]) for k, v in out.items()}
        # FID >= 0; identical sets give round-off around 0 (down to ~-1e-5 with a singular
        # covariance of a small evaluator sample): report those as 0
        fid_vals = [max(0.0, v) for v in res["fid"].values or []]
        res["fid"] = kit.summary_metric(fid_vals, False)
        return res

    def _mm_motions(self, reqs, preds, ds) -> list:
        """MultiModality's generations, checked: unlike the main set, none may fail (every
        text needs all its repeats for the pairs)."""
        arrs = []
        for q, p in zip(reqs, preds):
            arr, why = kit.check_motion(kit.pred_value(p), ds.spec.feature_dim, q.sample_id, min_len=4)
            if why is not None:
                raise kit.ModelOutputError(f"{self.name} multimodality: sample {q.sample_id} failed: {why}")
            arrs.append(arr)
        return arrs

    def _multimodality(self, model, ctx, ds, ev, items, captions, s) -> tuple[MetricValue, dict[str, Any]]:
        from hmvlm_bench.metrics.motion import multimodality

        n_texts = min(s["mm_texts"], len(items))
        chosen = sorted(kit.stable_order([it.id for it in items])[:n_texts])
        g, pairs = s["mm_generations"], s["mm_pairs"]
        reqs = [self._request(items[i], captions[i], s["dataset"], derive_seed(ctx.seed, items[i].id, "mm", k))
                for i in chosen for k in range(g)]
        preds = kit.call_model(model.generate_motion, reqs, ctx, f"{self.name} multimodality")
        emb = kit.embed_motions(ev, ds, self._mm_motions(reqs, preds, ds)).reshape(n_texts, g, -1)
        seed = derive_seed(ctx.seed, self.name, "multimodality")
        values = [multimodality(emb, pairs, np.random.default_rng(c))
                  for c in np.random.SeedSequence(seed).spawn(s["replications"])]
        return kit.summary_metric(values, True), {"mm_texts": n_texts, "mm_generations": g, "mm_pairs": pairs}


def _gate_list(pred: Any) -> list[float] | None:
    gate = kit.pred_info(pred).get("gate")
    if gate is None:
        return None
    return [kit.rounded(x) for x in np.asarray(kit.as_array(gate, "gate")).reshape(-1)]


def _mean_gate(preds: list[Any]) -> list[float] | None:
    """Mean expert weights over samples that report `info["gate"]` (zero expert first)."""
    gates = [g for g in (_gate_list(p) for p in preds) if g is not None]
    if not gates:
        return None
    if len({len(g) for g in gates}) != 1:
        raise kit.ModelOutputError("gate weights differ in length between samples")
    return [kit.rounded(x) for x in np.mean(np.asarray(gates), axis=0)]


class T2MFirstTokenTask(T2MTask):
    name = "t2m_first_token"
    variant = "first_token"
    description = "Text-to-motion, text + given first motion token (HMVLM prompt variant 2)"
    display_name = "T2M (first token given)"


class T2MLastTokenTask(T2MTask):
    name = "t2m_last_token"
    variant = "last_token"
    description = "Text-to-motion, text + given last motion token (HMVLM prompt variant 3)"
    display_name = "T2M (last token given)"


class T2MCompositionalTask(T2MTask):
    name = "t2m_compositional"
    split = "test_compositional"
    description = "Text-to-motion on compositional captions (split test_compositional)"
    display_name = "T2M (compositional)"
