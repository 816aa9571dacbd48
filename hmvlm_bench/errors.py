"""User-facing errors: the CLI prints them as one line and exits 2."""
from __future__ import annotations

from difflib import get_close_matches
from typing import Iterable


class UserError(Exception):
    """A problem with the user's input (name, path, data). Shown without a traceback."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' — did you mean 'x'?' suffix, or '' when nothing is close."""
    close = get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" — did you mean '{close[0]}'?" if close else ""
