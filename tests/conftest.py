"""Shared fixtures. Tests run offline with one artifact cache per test session."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
TOY_PLUGIN = FIXTURES / "plugins" / "toy_plugin.py"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Tiny artifacts (synthetic data, evaluator, tokenizer, model) are keyed by config hash,
# so one cache per session is safe; HMVLM_BENCH_CACHE set by the caller wins.
os.environ.setdefault("HMVLM_BENCH_CACHE", tempfile.mkdtemp(prefix="hmvlm-bench-test-cache-"))


@pytest.fixture
def cache_dir() -> Path:
    return Path(os.environ["HMVLM_BENCH_CACHE"])
