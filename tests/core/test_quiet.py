"""CLI stderr: third-party warnings once each on one line; library notices below ERROR off."""
from __future__ import annotations

import io
import logging
import warnings

import pytest

from hmvlm_bench.cli.quiet import OnceOneLine, quiet_third_party


def test_each_warning_once_on_one_line() -> None:
    out = io.StringIO()
    show = OnceOneLine(out)
    for _ in range(3):
        show(FutureWarning("`is_gradient_checkpointing` is deprecated\nmore detail"), FutureWarning,
             "/x/.venv/lib/python3.11/site-packages/transformers/modeling_utils.py", 3312)
    show(UserWarning("other"), UserWarning, "/repo/hmvlm_bench/runner.py", 1)
    assert out.getvalue().splitlines() == [
        "warning (transformers): FutureWarning: `is_gradient_checkpointing` is deprecated",
        "warning (runner): UserWarning: other",
    ]


def test_quiet_installs_printer_and_silences_library_notices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    monkeypatch.delenv("TRANSFORMERS_VERBOSITY", raising=False)
    lm_eval_log = logging.getLogger("lm_eval")
    monkeypatch.setattr(lm_eval_log, "level", lm_eval_log.level)
    with warnings.catch_warnings():
        quiet_third_party(verbose=False)
        assert isinstance(warnings.showwarning, OnceOneLine)
    assert lm_eval_log.level == logging.ERROR
    import os

    assert os.environ["TRANSFORMERS_VERBOSITY"] == "error"
