"""Fixtures for the reporting tests (helpers live in reporting_fixtures.py: a module
named `conftest` is ambiguous when several test folders are collected together)."""
from __future__ import annotations

from pathlib import Path

import pytest
from reporting_fixtures import build_tree


@pytest.fixture()
def results_tree(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "results")
