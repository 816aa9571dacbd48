"""Shared fixtures: offline env with a throwaway HF_HOME per test session."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

TASK_DIR = Path(__file__).resolve().parents[2] / "tasks" / "lm_eval"


@pytest.fixture(scope="session", autouse=True)
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("lm_eval_env")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HOME", str(root / "hf"))
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        mp.setenv("HF_HUB_OFFLINE", "1")
        # HMVLM_BENCH_CACHE is left alone: the converted SmolLM2/tokenizer cache is
        # provenance-stamped and written atomically, and rebuilding it costs ~20 s.
        yield root


@pytest.fixture(scope="session")
def tiny_backend(offline_env: Path) -> Any:
    from hmvlm_bench.lm_eval_adapter import build_lm_backend

    return build_lm_backend({"model": "base", "preset": "tiny", "seed": "0"})


@pytest.fixture(scope="session")
def task_dir() -> Path:
    return TASK_DIR
