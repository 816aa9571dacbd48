"""Motion-to-text (captioning), after MotionGPT `mGPT/metrics/m2t.py`.

Each test motion (raw features) is captioned once (seed = derive_seed(run seed, id)).
Scores:
- R-precision top-1..3 and MM-Dist of (generated caption, real motion) through the
  evaluator: the caption goes through the evaluator's *text* side (no POS tags for a
  generated caption: evaluators that need them tag or fall back themselves), the real
  motion through its motion side; batches of 32, `replications` shuffles, mean +- 95% CI.
  `extra["reference_r_precision_top3"]` gives the same number for the first
  ground-truth caption (the "real" row).
- BLEU@1/@4 (corpus), ROUGE-L, CIDEr-D, BERTScore-F1 against *all* reference captions of
  the motion (`hmvlm_bench.metrics.text`); reported x100 as papers print them.
  BERTScore uses local all-MiniLM-L6-v2 (6 layers, idf, not baseline-rescaled): not
  comparable with MotionGPT's rescaled roberta-large numbers (recorded in `extra`).
- caption_length: mean words per generated caption.

Protocols (`protocol` option; `tasks/protocols.py`): `bench` (synthetic default) as above;
`guo` (HumanML3D/KIT default) captions the reference's evaluation crop of each motion and
scores against the lemmatised token strings of its first 3 captions padded to 3
(TM2T/MotionGPT), CIDEr tokenised on whitespace (nlg-metricverse, as MotionGPT).
With Guo et al.'s official evaluator the generated captions are POS-tagged with spaCy
(`hmvlm_bench.evaluators.tagging`); the preflight names a missing tagger in one line.

Options: replications (preset), bertscore (true), dataset, protocol.
Empty captions are valid (they score 0) and counted in `extra["n_empty"]`; a non-string
caption is a model bug (ModelOutputError).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hmvlm_bench import taskkit as kit
from hmvlm_bench.contracts import CaptionRequest, Capability, MetricSpec, TaskResult
from hmvlm_bench.seeding import derive_seed
from tasks import protocols as P

M2T_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("r_precision_top1", True, "R@1", format=".3f"),
    MetricSpec("r_precision_top2", True, "R@2", format=".3f"),
    MetricSpec("r_precision_top3", True, "R@3", format=".3f"),
    MetricSpec("mm_dist", False, "MM-Dist", format=".3f"),
    MetricSpec("bleu1", True, "BLEU@1", format=".2f"),
    MetricSpec("bleu4", True, "BLEU@4", format=".2f"),
    MetricSpec("rouge_l", True, "ROUGE-L", format=".2f"),
    MetricSpec("cider", True, "CIDEr", format=".2f"),
    MetricSpec("bertscore_f1", True, "BERTScore", format=".2f"),
    MetricSpec("caption_length", None, "Caption length", "words", ".1f"),  # closer to the real captions
)
_TEXT_NAMES = {"BLEU@1": "bleu1", "BLEU@4": "bleu4", "ROUGE-L": "rouge_l", "CIDEr-D": "cider",
               "BERTScore-F1": "bertscore_f1"}
BERTSCORE_NOTE = ("BERTScore-F1 x100 with local all-MiniLM-L6-v2 (6 layers, idf from references, "
                  "no baseline rescaling); MotionGPT reports rescaled roberta-large")


@dataclass(frozen=True)
class M2TOptions(kit.ReplicatedOptions):
    """Options of the captioning task (`--task-option m2t.NAME=VALUE`)."""

    bertscore: bool = kit.opt(True, "score BERTScore-F1 (loads all-MiniLM-L6-v2)")
    protocol: str | None = kit.opt(None, "evaluation protocol (default: guo on HumanML3D/KIT-ML, else bench)",
                                   choices=kit.PROTOCOLS, normalize=True)


class M2TTask(kit.EvaluatedSplitTask):
    name: ClassVar[str] = "m2t"
    version: ClassVar[int] = 1
    requires: ClassVar[Capability] = Capability.CAPTION_MOTION
    metrics: ClassVar[tuple[MetricSpec, ...]] = M2T_METRICS
    main_metric: ClassVar[str] = "bertscore_f1"
    display_name: ClassVar[str] = "Motion-to-text"
    description: ClassVar[str] = "Motion captioning: R-precision/MM-Dist via the evaluator, BLEU, ROUGE-L, CIDEr, BERTScore"
    dataset_name: ClassVar[str] = "synthetic"
    split: ClassVar[str] = "test"

    Options: ClassVar[type[kit.TaskOptions]] = M2TOptions

    def _settings(self, ctx) -> dict[str, Any]:
        o: M2TOptions = kit.read_options(self, ctx)
        return {**self.split_settings(ctx, o), "bertscore": o.bertscore}

    def preflight(self, ctx) -> list[str]:
        missing = super().preflight(ctx)
        problem = kit.guo_tagger_problem(self, ctx)
        if problem:
            missing.append(problem)
        return missing

    def evaluate(self, model, ctx) -> TaskResult:
        from hmvlm_bench.metrics.text import caption_metrics, tokenize

        s = self._settings(ctx)
        ev = ctx.evaluator(s["dataset"])
        ds, items = self._items(ctx, s)
        guo = s["protocol"] == P.GUO
        crops: list[tuple[int, int]] = []
        ref_caps = []  # the caption whose evaluator embedding is the "real" row
        for it in items:
            rng = random.Random(derive_seed(ctx.seed, "m2t-guo", it.id))
            if guo:  # reference order: draw the caption, then the crop
                ref_caps.append(rng.choice(it.captions))
                crops.append(P.guo_crop(it.length, rng))
            else:
                ref_caps.append(it.captions[0])
                crops.append((0, it.length))
        motions = [it.features[a:a + n] for it, (a, n) in zip(items, crops)]
        if guo:
            refs = [P.guo_references([c.tokens if c.tokens else tuple(c.text.lower().split()) for c in it.captions])
                    for it in items]
        else:
            refs = [[c.text for c in it.captions] for it in items]
        reqs = [CaptionRequest(sample_id=it.id, dataset=s["dataset"], features=m,
                               seed=derive_seed(ctx.seed, it.id), target=r) for it, m, r in zip(items, motions, refs)]
        preds = kit.call_model(model.caption_motion, reqs, ctx, self.name)

        texts: list[str] = []
        for it, p in zip(items, preds):
            v = kit.pred_value(p)
            if not isinstance(v, str):
                raise kit.ModelOutputError(f"{self.name}: sample {it.id}: caption must be a str, got {type(v).__name__}")
            texts.append(v.strip())
        n_empty = sum(1 for t in texts if not t)  # scored (as 0), never dropped
        proto = kit.MatchingProtocol.for_n(len(items))

        gen_emb = kit.embed_texts(ev, texts)  # no tokens: an evaluator that needs POS tags tags them
        motion_emb = kit.embed_motions(ev, ds, motions)
        ref_emb = kit.embed_texts(ev, [c.text for c in ref_caps], [c.tokens for c in ref_caps])
        seed = derive_seed(ctx.seed, self.name, "replications")
        rows = kit.replicated_matching(gen_emb, motion_emb, s["replications"], seed, proto.batch_size)
        metrics = {k: kit.summary_metric(v, k != "mm_dist") for k, v in rows.items()}
        ref_rows = kit.replicated_matching(ref_emb, motion_emb, s["replications"], seed, proto.batch_size)

        # The oracle answers with a reference caption; scoring it against itself would read
        # 100 everywhere. It is scored against the other references (human agreement, as the
        # COCO caption evaluation does for human captions); single-reference items keep theirs.
        oracle = bool(getattr(getattr(model, "unwrapped", model), "oracle", False))
        score_refs = [[x for x in r if x.strip() != t] or r for r, t in zip(refs, texts)] if oracle else refs
        text = caption_metrics(texts, score_refs, bertscore=s["bertscore"],
                               cider_tokenizer=P.whitespace_tokens if guo else None)
        for k, v in text.items():
            if k in _TEXT_NAMES:
                metrics[_TEXT_NAMES[k]] = kit.point_metric(100.0 * v, True, len(items))
        metrics["caption_length"] = kit.point_metric(text["length"], None, len(items))

        dist = np.linalg.norm(gen_emb - motion_emb, axis=1)
        samples = [{"id": it.id, "caption": t, "references": r, "length": it.length,
                    "caption_motion_distance": kit.rounded(d), "n_words": len(tokenize(t)),
                    **({"crop": [a, n]} if guo else {})}
                   for it, t, r, d, (a, n) in zip(items, texts, refs, dist, crops)]
        if guo:
            ref_note = ("lemmatised token strings of the first 3 captions, padded to 3 by repetition "
                        "(TM2T / MotionGPT dataset_t2m_eval.py); CIDEr tokenised on whitespace")
        else:
            ref_note = "all captions of each motion, as written"
        extra = {
            "eval_protocol": s["protocol"],
            "scale": "BLEU, ROUGE-L, CIDEr-D, BERTScore x100",
            "bertscore": BERTSCORE_NOTE if s["bertscore"] else "disabled",
            "references": (ref_note if not oracle else
                           f"oracle row: each reference caption scored against the motion's other captions ({ref_note})"),
            "motion": ("the reference evaluation crop (random offset, multiple of 4 frames, one unit shorter "
                       "with probability 1/3)" if guo else "the whole clip"),
            "reference_r_precision_top3": kit.rounded(float(np.mean(ref_rows["r_precision_top3"]))),
            "reference_mm_dist": kit.rounded(float(np.mean(ref_rows["mm_dist"]))),
            "n_empty": n_empty,
            **proto.as_dict(),
        }
        return TaskResult(metrics=metrics, n_samples=len(items), samples=samples, extra=extra,
                          dataset=kit.dataset_info(ds, s["dataset"], self.split, len(items), s["limit"]),
                          evaluator=kit.evaluator_info(ev))
