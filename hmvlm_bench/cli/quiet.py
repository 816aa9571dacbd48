"""Quiet stderr for the CLI: third-party warnings once each, on one line; library notices off.

A plain run used to fill stderr with two-line FutureWarnings from transformers/torch and
lm-eval notices meant for its own CLI users, burying our progress bars and errors. Every
warning still shows (once, as `warning (package): Category: first line`), so nothing is
hidden; `--verbose` restores the libraries' INFO/WARNING logging.
"""
from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

# libraries whose loggers speak to their own users (lm-eval's `--limit`/`--metadata`
# notices, transformers' generation hints); their errors still show
_CHATTY_LOGGERS = ("lm_eval", "lm-eval", "transformers", "datasets", "huggingface_hub", "accelerate", "peft")


def _origin(filename: str) -> str:
    """`transformers` for .../site-packages/transformers/x.py; the file name otherwise."""
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            i = parts.index(marker)
            return parts[i + 1].removesuffix(".py") if i + 1 < len(parts) else filename
    return Path(filename).stem


class OnceOneLine:
    """`warnings.showwarning` replacement: each (category, text) printed once, one line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.seen: set[tuple[type, str]] = set()
        self.stream = stream

    def __call__(self, message: Any, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
        text = str(message).strip()
        key = (category, text)
        if key in self.seen:
            return
        self.seen.add(key)
        first = text.splitlines()[0] if text else ""
        out = file or self.stream or sys.stderr
        try:
            print(f"warning ({_origin(filename)}): {category.__name__}: {first}", file=out)
        except (OSError, ValueError):  # a closed stream must not turn a warning into a crash
            pass


def quiet_third_party(verbose: bool = False) -> None:
    """Install the one-line warning printer; silence library loggers below ERROR unless verbose."""
    warnings.showwarning = OnceOneLine()
    # the default filters show a warning once per *location*; ours dedupe by text on top
    warnings.simplefilter("default")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    if verbose:
        return
    # set before the libraries are imported: transformers/datasets read these once
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DATASETS_VERBOSITY", "error")
    # "Loading weights 103/103" bars of from_pretrained: instant, one per model load
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
