"""`!function` hooks for the hmvlm_forgetting lm-eval suites.

lm-eval loads this file by path (from the YAML's folder), so data paths are resolved
from `__file__`, never from the working directory: `datasets`' `json` builder would
resolve relative `data_files` against the cwd.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_jsonl(name: str) -> list[dict[str, Any]]:
    path = DATA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: rebuild it with the build_*.py script beside it")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _test_split(name: str) -> Any:
    import datasets

    # In memory: nothing is written under HF_HOME / the datasets cache.
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(load_jsonl(name))})


# lm-eval calls `custom_dataset(**metadata, **dataset_kwargs)`; the kwargs are unused.
def news_ppl(**_: Any) -> Any:
    return _test_split("news_ppl.jsonl")


def knowledge_mc(**_: Any) -> Any:
    return _test_split("knowledge_mc.jsonl")


def retention(**_: Any) -> Any:
    return _test_split("retention.jsonl")


def retention_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    from hmvlm_bench.forgetting import retention_scores

    return retention_scores(results[0], doc["reference"])
