"""The forgetting task end to end on the tiny preset: the base LLM against itself forgets
nothing, and a perturbed model forgets (lm-eval suites run for real)."""
from __future__ import annotations

from pathlib import Path

import pytest

from hmvlm_bench.plugins import load_registries
from hmvlm_bench.results import load_result
from hmvlm_bench.runner import RunConfig, run


def test_base_llm_forgets_nothing(tmp_path: Path):
    regs = load_registries()
    cfg = RunConfig(tasks=["forgetting"], models=["base-llm"], preset="tiny", output_dir=tmp_path,
                    progress=False, task_options={"forgetting": {"limit": 2}})
    summary = run(cfg, regs)
    assert [o.status for o in summary.outcomes] == ["computed"], summary.outcomes
    r = load_result(tmp_path / "base-llm" / "forgetting.json")
    assert r.metrics["forgetting"].value == 0.0
    for name in ("knowledge_acc", "news_bits_per_byte", "retention_rouge_l"):
        assert r.metrics[f"{name}_delta"].value == 0.0
        assert r.metrics[name].value == r.metrics[f"{name}_base"].value
    assert r.extra["base_model"] == {"model": "base", "preset": "tiny"}
    assert r.dataset["suites"] == ["hmvlm_news_ppl", "hmvlm_knowledge_mc", "hmvlm_retention"]
    # items carry a unique id and their metric by name, which `compare` pairs across models
    from hmvlm_bench.results import load_samples

    items = load_samples(tmp_path, "base-llm", "forgetting")
    ids = [s["sample_id"] for s in items]
    assert len(ids) == len(set(ids)) == 6 and "hmvlm_knowledge_mc/0" in ids
    mc = [s for s in items if s["suite"] == "hmvlm_knowledge_mc"]
    assert all(s["knowledge_acc"] == s["acc"] for s in mc)
    assert all("retention_rouge_l" in s for s in items if s["suite"] == "hmvlm_retention")


def test_unknown_suite_is_a_user_error():
    from hmvlm_bench.errors import UserError
    from tasks.forgetting import Forgetting

    with pytest.raises(UserError, match="unknown suite"):
        Forgetting({"suites": ["nope"]}).suites()


# ---------------------------------------------------------------- a model that differs


def _suite_out(bpb: float, ppl: float, acc: list[float], rouge: list[float]) -> dict:
    return {"results": {"hmvlm_news_ppl": {"bits_per_byte": bpb, "word_perplexity": ppl},
                        "hmvlm_knowledge_mc": {"acc": sum(acc) / len(acc)},
                        "hmvlm_retention": {"rouge_l_f": sum(rouge) / len(rouge)}},
            "n_samples": {},
            "samples": {"hmvlm_news_ppl": [{"doc_id": 0}],
                        "hmvlm_knowledge_mc": [{"doc_id": i, "acc": a} for i, a in enumerate(acc)],
                        "hmvlm_retention": [{"doc_id": i, "rouge_l_f": r} for i, r in enumerate(rouge)]}}


class _Backend:
    base_args = {"model": "base", "preset": "tiny"}
    is_base = False


class _Tuned:
    name = "tuned"

    def lm_backend(self):
        return _Backend()


def test_headline_forgetting_of_a_tuned_model_by_hand(monkeypatch, tmp_path: Path):
    """Base: bits/byte 1.00, accuracy 0.50, retention ROUGE-L 0.80. Tuned: bits/byte 1.10
    (10% worse: lower is better), accuracy 0.40 (20% worse), ROUGE-L 0.84 (5% better).
    Forgetting = mean(+10, +20, -5) = 25/3 % = 8.333...; flipping the sign of any one
    suite's change gives 1.667, -5 or 11.667 instead."""
    from hmvlm_bench.artifacts import ArtifactStore
    from hmvlm_bench.context import DataCatalog, TaskContext
    from hmvlm_bench.presets import get_preset
    from tasks.forgetting import Forgetting

    base = _suite_out(1.00, 20.0, [1, 0, 1, 0], [0.8, 0.8])
    tuned = _suite_out(1.10, 25.0, [1, 0, 0, 0.6], [0.84, 0.84])
    task = Forgetting({})
    monkeypatch.setattr(Forgetting, "_base_scores", lambda self, args, ctx: base)
    monkeypatch.setattr(Forgetting, "_run", lambda self, backend, ctx: tuned)
    p = get_preset("tiny")
    arts = ArtifactStore(tmp_path / "cache")
    ctx = TaskContext(preset=p, data=DataCatalog(p, arts, {}), artifacts=arts, progress=False)
    res = task.evaluate(_Tuned(), ctx)
    assert res.metrics["forgetting"].value == pytest.approx(25.0 / 3.0, abs=1e-9)
    assert res.metrics["news_bits_per_byte_rel"].value == pytest.approx(0.10)
    assert res.metrics["knowledge_acc_delta"].value == pytest.approx(-0.10)
    assert res.metrics["retention_rouge_l_rel"].value == pytest.approx(0.05)
    assert res.metrics["forgetting"].higher_is_better is False


@pytest.mark.slow  # ~35 s: two tiny LLMs through the three lm-eval suites
def test_a_perturbed_base_llm_forgets_what_the_suites_say(tmp_path: Path):
    """End to end with lm-eval: the tuned model is the tiny base LLM with other random
    weights (seed 1 vs 0). The headline must equal the hand composition of the suite
    results it records (sign per metric, mean of relative drops), and not be zero."""
    from hmvlm_bench.artifacts import ArtifactStore
    from hmvlm_bench.context import DataCatalog, TaskContext
    from hmvlm_bench.lm_eval_adapter import build_lm_backend
    from hmvlm_bench.presets import get_preset
    from tasks.forgetting import Forgetting

    class Perturbed:
        name = "perturbed"

        def lm_backend(self):
            b = build_lm_backend({"model": "base", "preset": "tiny", "seed": "1"})
            b.base_args = {"model": "base", "preset": "tiny"}  # its base: seed 0
            return b

    p = get_preset("tiny")
    arts = ArtifactStore(tmp_path / "cache")
    ctx = TaskContext(preset=p, data=DataCatalog(p, arts, {}), artifacts=arts, progress=False)
    res = Forgetting({"limit": 4}).evaluate(Perturbed(), ctx)
    b, t = res.extra["base_results"], res.extra["tuned_results"]
    drops = [(t["hmvlm_news_ppl"]["bits_per_byte"] - b["hmvlm_news_ppl"]["bits_per_byte"])
             / abs(b["hmvlm_news_ppl"]["bits_per_byte"])]  # lower is better: a rise is forgetting
    for suite, m in (("hmvlm_knowledge_mc", "acc"), ("hmvlm_retention", "rouge_l_f")):
        if b[suite][m] != 0:  # higher is better: a fall is forgetting
            drops.append(-(t[suite][m] - b[suite][m]) / abs(b[suite][m]))
    assert t["hmvlm_news_ppl"]["bits_per_byte"] != b["hmvlm_news_ppl"]["bits_per_byte"]
    assert res.metrics["forgetting"].value == pytest.approx(100.0 * sum(drops) / len(drops), rel=1e-9)
    assert res.metrics["forgetting"].value != 0.0
