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
