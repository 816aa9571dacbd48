"""The hmvlm_forgetting YAML suites: load through TaskManager from any cwd, run on `tiny`."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from hmvlm_bench.lm_eval_adapter import run_suite, task_manager

SUITES = ["hmvlm_news_ppl", "hmvlm_knowledge_mc", "hmvlm_retention"]


def test_yaml_suites_load_with_versions_from_any_cwd(task_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lm_eval.tasks import get_task_dict

    monkeypatch.chdir(tmp_path)  # data paths must not depend on the working directory
    tm = task_manager(task_dir)
    assert set(SUITES) | {"hmvlm_forgetting"} <= set(tm.all_tasks)
    tasks = get_task_dict(SUITES, tm)
    sizes = {name: len(list(task.test_docs())) for name, task in tasks.items()}
    assert sizes["hmvlm_news_ppl"] == 300
    assert sizes["hmvlm_knowledge_mc"] >= 200
    assert sizes["hmvlm_retention"] >= 100
    for task in tasks.values():
        assert task.config.metadata["version"] == 1.0
    group = get_task_dict(["hmvlm_forgetting"], tm)
    assert {t for sub in group.values() for t in sub} == set(SUITES)


def test_knowledge_items_are_well_formed(task_dir: Path) -> None:
    rows = [json.loads(l) for l in (task_dir / "data" / "knowledge_mc.jsonl").read_text().splitlines()]
    assert len({r["question"] for r in rows}) == len(rows)
    for r in rows:
        assert len(r["choices"]) == 4 and len(set(r["choices"])) == 4 and 0 <= r["label"] < 4
    assert len({r["category"] for r in rows[:40]}) >= 8  # shuffled: a --limit prefix is mixed


def test_builders_are_deterministic(task_dir: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(task_dir))
    try:
        import build_knowledge_mc
        import build_news_ppl
    finally:
        sys.path.remove(str(task_dir))
    for module, name in ((build_knowledge_mc, "knowledge_mc.jsonl"), (build_news_ppl, "news_ppl.jsonl")):
        module.build(tmp_path / name)
        assert (tmp_path / name).read_bytes() == (task_dir / "data" / name).read_bytes()


def test_retention_reference_provenance(task_dir: Path) -> None:
    rows = [json.loads(l) for l in (task_dir / "data" / "retention.jsonl").read_text().splitlines()]
    assert len(rows) >= 100
    assert {r["reference_model"] for r in rows} == {rows[0]["reference_model"]}
    assert rows[0]["reference_model"].startswith("smollm2-135m-instruct")
    assert all(r["input"].endswith("<|im_start|>assistant\n") and r["reference"] for r in rows)


def test_tiny_runs_news_and_knowledge(tiny_backend: Any, task_dir: Path) -> None:
    out = run_suite(tiny_backend, ["hmvlm_news_ppl", "hmvlm_knowledge_mc"], task_dir, limit=3, seed=0)
    news, mc = out["results"]["hmvlm_news_ppl"], out["results"]["hmvlm_knowledge_mc"]
    assert news["word_perplexity"] > news["byte_perplexity"] > 1.0 and news["bits_per_byte"] > 0
    assert 0.0 <= mc["acc"] <= 1.0
    assert [r["doc_id"] for r in out["samples"]["hmvlm_knowledge_mc"]] == [0, 1, 2]
    assert {"acc", "acc_norm"} <= set(out["samples"]["hmvlm_knowledge_mc"][0])
    assert out["versions"]["hmvlm_news_ppl"] == 1.0


@pytest.mark.slow
def test_retention_is_one_for_the_reference_model(tiny_backend: Any, task_dir: Path, tmp_path: Path) -> None:
    """Regenerate references with the tiny model in a copy of the suite: it must score 1.0."""
    copy = tmp_path / "lm_eval"
    shutil.copytree(task_dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(copy))
    try:
        import build_retention
    finally:
        sys.path.remove(str(copy))
    n = 6
    rows = [json.loads(l) for l in (copy / "data" / "retention.jsonl").read_text().splitlines()][:n]
    from hmvlm_bench.lm_eval_adapter import HmvlmLM

    answers = HmvlmLM(backend=tiny_backend, batch_size=4).generate(
        [r["input"] for r in rows], until=[build_retention.STOP], max_new_tokens=build_retention.MAX_NEW_TOKENS
    )
    with (copy / "data" / "retention.jsonl").open("w") as fh:
        for r, a in zip(rows, answers):
            fh.write(json.dumps({**r, "reference": a, "reference_model": "tiny"}) + "\n")
    out = run_suite(tiny_backend, ["hmvlm_retention"], copy, limit=n, seed=0, batch_size=4)
    assert out["results"]["hmvlm_retention"] == {"rouge_l_f": 1.0, "prefix_match": 1.0}
    assert len(out["samples"]["hmvlm_retention"]) == n
    # and the shipped (SmolLM2) references are not what the random tiny model says
    shipped = run_suite(tiny_backend, ["hmvlm_retention"], task_dir, limit=n, seed=0)
    assert shipped["results"]["hmvlm_retention"]["rouge_l_f"] < 0.5
