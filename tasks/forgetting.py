"""`forgetting`: how much general-language ability a motion-tuned model keeps.

Runs our offline lm-eval suites (tasks/lm_eval: news perplexity, knowledge multiple
choice, retention of the base model's own answers) on the tuned model and on its base
LLM, and reports tuned, base and tuned - base (absolute and relative) with paired
bootstrap 95% CIs over items, as HMVLM's Table 1 reports MT-Bench base -> tuned.

The base model's scores are cached as an artifact keyed by the base LLM, the suites'
versions, the limit and the seed, so they are computed once per preset.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hmvlm_bench.contracts import Capability, MetricSpec, MetricValue, Task, TaskResult, stable_hash
from hmvlm_bench.presets import PresetTable
from hmvlm_bench.taskkit import TaskOptions, opt, read_options

SUITE_DIR = Path(__file__).resolve().parent / "lm_eval"

# suite -> (lm-eval metric, our name, higher_is_better, per-item field or None)
SUITE_METRICS: dict[str, tuple[tuple[str, str, bool, str | None], ...]] = {
    "hmvlm_news_ppl": (("bits_per_byte", "news_bits_per_byte", False, None),
                       ("word_perplexity", "news_word_perplexity", False, None)),
    "hmvlm_knowledge_mc": (("acc", "knowledge_acc", True, "acc"),),
    "hmvlm_retention": (("rouge_l_f", "retention_rouge_l", True, "rouge_l_f"),),
}
# the one number per suite that enters the overall forgetting score
HEADLINE = {"hmvlm_news_ppl": "news_bits_per_byte", "hmvlm_knowledge_mc": "knowledge_acc",
            "hmvlm_retention": "retention_rouge_l"}
# mini: 64 items per suite keeps one model near 4 CPU-minutes (full suites: ~17 min)
DEFAULT_LIMITS = PresetTable("forgetting suite limit", {"tiny": 4, "mini": 64, "paper": None})


# report columns after `forgetting` (mean relative drop, %): label and format, in column order
COLUMNS = {"knowledge_acc": ("Knowledge acc.", ".3f"), "news_bits_per_byte": ("News bits/byte", ".3f"),
           "retention_rouge_l": ("Retention ROUGE-L", ".3f"), "news_word_perplexity": ("News word ppl", ".1f")}


def _metric_specs() -> tuple[MetricSpec, ...]:
    hib = {name: h for rows in SUITE_METRICS.values() for _, name, h, _ in rows}
    out = [MetricSpec("forgetting", False, "Forgetting", "%", ".1f")]
    out += [MetricSpec(name, hib[name], label, format=fmt) for name, (label, fmt) in COLUMNS.items()]
    for name in hib:  # base / tuned - base / relative: after the columns, named after their metric
        out += [MetricSpec(f"{name}_{part}", hib[name], column=False) for part in ("base", "delta", "rel")]
    return tuple(out)


def _per_item(samples: list[dict[str, Any]], field: str) -> list[float]:
    return [float(s[field]) for s in samples if field in s]


@dataclass(frozen=True)
class ForgettingOptions(TaskOptions):
    """Options of the forgetting task (`--task-option forgetting.NAME=VALUE`)."""

    suites: tuple[str, ...] | None = opt(None, "lm-eval suites to run (comma-separated; default: all)",
                                         choices=tuple(SUITE_METRICS))
    limit: int | None = opt(None, "items per suite; none = all (default: --limit, else the preset's)",
                            minimum=1)


class Forgetting(Task):
    name = "forgetting"
    version = 1
    requires = Capability.LANGUAGE_MODEL
    metrics = _metric_specs()
    main_metric = "forgetting"
    description = "general-language suites (lm-eval) on the tuned model vs its base LLM"
    display_name = "Forgetting (general language)"
    dataset_name = "lm_eval_offline"

    Options = ForgettingOptions

    def suites(self) -> list[str]:
        o: ForgettingOptions = read_options(self)
        return list(SUITE_METRICS) if o.suites is None else list(o.suites)

    def limit(self, ctx: Any) -> int | None:
        if "limit" in self.options:  # given, even as none (the whole suites)
            return read_options(self, ctx).limit
        if ctx.limit is not None:
            return ctx.limit
        return DEFAULT_LIMITS.get(ctx.preset.name)

    def _suite_versions(self) -> dict[str, str]:
        # the bytes of a suite's YAML, its data and the scoring code (the `!function` hooks
        # and hmvlm_bench.metrics.forgetting, by file name and bytes): an edit to any of them
        # changes the task hash (names and sizes did not: a same-size data edit was served from cache)
        import hmvlm_bench.metrics.forgetting as scoring
        from hmvlm_bench.filehash import files_digest

        data = files_digest(sorted((SUITE_DIR / "data").glob("*.json*")))
        code = files_digest([SUITE_DIR / "hmvlm_utils.py", Path(scoring.__file__)])
        return {s: stable_hash({"yaml": (SUITE_DIR / f"{s}.yaml").read_text(encoding="utf-8"),
                                "data": data, "code": code})
                for s in self.suites()}

    def config(self, ctx: Any) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "suites": self.suites(),
                "limit": self.limit(ctx), "suite_hashes": self._suite_versions(),
                "options": {k: v for k, v in self.options.items() if k not in ("suites", "limit")}}

    def task_hash(self, ctx: Any) -> str:
        return stable_hash({"config": self.config(ctx), "seed": ctx.seed})

    def preflight(self, ctx: Any) -> list[str]:
        return []  # the suites ship with the package

    def _run(self, backend: Any, ctx: Any) -> dict[str, Any]:
        from hmvlm_bench.lm_eval_adapter import run_suite

        return run_suite(backend, self.suites(), SUITE_DIR, limit=self.limit(ctx), seed=ctx.seed,
                         progress=ctx.progress and ctx.world.is_main)

    def _base_scores(self, base_args: dict[str, Any], ctx: Any) -> dict[str, Any]:
        from hmvlm_bench.lm_eval_adapter import build_lm_backend

        key: dict[str, Any] = {"base": base_args, "task": self.config(ctx), "seed": ctx.seed}
        if base_args.get("llm_path"):  # the weights' bytes, not the folder's name
            from hmvlm_bench.filehash import tree_digest

            key["llm_contents"] = tree_digest(Path(str(base_args["llm_path"])))

        def build(tmp: Path) -> None:
            out = self._run(build_lm_backend(dict(base_args)), ctx)
            keep = {"results": out["results"], "n_samples": out["n_samples"],
                    "samples": {t: [{k: v for k, v in s.items() if isinstance(v, (int, float, str))}
                                    for s in recs] for t, recs in out["samples"].items()}}
            (tmp / "scores.json").write_text(json.dumps(keep, sort_keys=True, default=str))

        path = ctx.artifacts.get_or_build("lm_base_scores", key, build)
        return json.loads((path / "scores.json").read_text())

    def evaluate(self, model: Any, ctx: Any) -> TaskResult:
        from hmvlm_bench.metrics.forgetting import forgetting_scores

        from hmvlm_bench.seeding import model_threads

        with model_threads():  # the runner pins metric code to one thread; lm-eval runs the model
            backend = model.lm_backend()
            base_args = dict(getattr(backend, "base_args", None) or {"model": "base", "preset": ctx.preset.name})
            base = self._base_scores(base_args, ctx)
            # the base LLM's own row: its scores are the (cached) base scores
            tuned = base if getattr(backend, "is_base", False) else self._run(backend, ctx)
        # MoE models: where the gate sent general-language prompts (paper Table 3: the zero
        # expert takes ~all the weight there); rows: every scored context of the suites
        mean_gate = getattr(backend, "mean_gate", lambda: None)()
        metrics: dict[str, MetricValue] = {}
        rel_drops: list[float] = []
        samples: list[dict[str, Any]] = []
        n_total = 0
        for suite in self.suites():
            t_res, b_res = tuned["results"].get(suite, {}), base["results"].get(suite, {})
            t_s, b_s = tuned["samples"].get(suite, []), base["samples"].get(suite, [])
            n = len(t_s)
            n_total += n
            for lm_metric, name, hib, item_field in SUITE_METRICS[suite]:
                if lm_metric not in t_res or lm_metric not in b_res:
                    # lm-eval's output, not the user's input: this pair fails, the run goes on
                    raise RuntimeError(f"forgetting: lm-eval returned no '{lm_metric}' for {suite}")
                per_b = {lm_metric: _per_item(b_s, item_field)} if item_field else {}
                per_t = {lm_metric: _per_item(t_s, item_field)} if item_field else {}
                d = forgetting_scores({lm_metric: b_res[lm_metric]}, {lm_metric: t_res[lm_metric]},
                                      per_b, per_t, seed=ctx.seed)[lm_metric]
                ci = None if math.isnan(d["ci_low"]) else (d["ci_high"] - d["ci_low"]) / 2
                metrics[name] = MetricValue(d["tuned"], None, hib, n)
                metrics[f"{name}_base"] = MetricValue(d["base"], None, hib, n)
                metrics[f"{name}_delta"] = MetricValue(d["delta"], ci, hib, n)
                if not math.isnan(d["relative"]):
                    metrics[f"{name}_rel"] = MetricValue(d["relative"], None, hib, n)
                    if name == HEADLINE[suite]:
                        # forgetting is positive when the tuned model got worse
                        rel_drops.append(-d["relative"] if hib else d["relative"])
            # per item, under the metric's own name too, so `compare` pairs two models' items
            # (sample_id) in a bootstrap test instead of comparing suite means alone
            by_field = {item_field: name for _, name, _, item_field in SUITE_METRICS[suite] if item_field}
            for s in t_s:
                samples.append({"sample_id": f"{suite}/{s.get('doc_id')}", "suite": suite, "doc_id": s.get("doc_id"),
                                **{f: s[f] for f in ("acc", "rouge_l_f", "prefix_match") if f in s},
                                **{name: s[f] for f, name in by_field.items() if f in s}})
        if not rel_drops:
            raise RuntimeError("forgetting: no suite produced a relative change")
        metrics["forgetting"] = MetricValue(100.0 * sum(rel_drops) / len(rel_drops), None, False,
                                            len(rel_drops))
        return TaskResult(
            metrics=metrics, n_samples=n_total, samples=samples,
            dataset={"name": "lm_eval_offline", "suites": self.suites(), "limit": self.limit(ctx),
                     "hash": stable_hash(self._suite_versions())},
            extra={"base_model": base_args, "base_results": base["results"],
                   "tuned_results": tuned["results"],
                   **({"gate_weights": {"general": mean_gate}} if mean_gate is not None else {}),
                   "note": ("forgetting = mean over suites of the relative degradation of the headline "
                            "metric (bits/byte, accuracy, retention ROUGE-L), in %; positive = forgot")},
        )
