"""User-facing errors: the CLI prints them as one line and exits 2."""
from __future__ import annotations

import errno
from difflib import get_close_matches
from typing import Iterable


class UserError(Exception):
    """A problem with the user's input (name, path, data). Shown without a traceback."""


# OS errors a user fixes (space, quota, permissions, a path that is a file), not bugs: they
# stop the run with one line instead of failing pair after pair
_ENV_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS,
                         errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG})


def is_environment_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _ENV_ERRNOS


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' — did you mean 'x'?' suffix, or '' when nothing is close."""
    close = get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" — did you mean '{close[0]}'?" if close else ""
