"""A cache of built artifacts (synthetic datasets, trained checkpoints) keyed by the hash
of the config that builds them. Building happens in a temp folder renamed into place, so
an interrupted build leaves nothing that looks finished; a file lock lets one process
build while others (e.g. other ranks of `accelerate launch`) wait.

Read-only `shipped` roots (checkpoints committed in the repo) are searched first.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from hmvlm_bench.contracts import stable_hash

MANIFEST = "artifact.json"


def default_cache_dir() -> Path:
    env = os.environ.get("HMVLM_BENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hmvlm_bench"


def shipped_roots() -> tuple[Path, ...]:
    """The repository's committed checkpoints (`checkpoints/`), when this is a checkout."""
    root = Path(__file__).resolve().parents[1] / "checkpoints"
    return (root,) if root.is_dir() else ()


@dataclass
class ArtifactStore:
    root: Path = field(default_factory=default_cache_dir)
    shipped: tuple[Path, ...] = ()

    @staticmethod
    def key(config: dict[str, Any]) -> str:
        return stable_hash(config)

    def lookup(self, kind: str, config: dict[str, Any]) -> Path | None:
        key = self.key(config)
        for base in (*self.shipped, self.root):
            cand = Path(base) / kind / key
            if (cand / MANIFEST).is_file():
                return cand
        return None

    def get_or_build(self, kind: str, config: dict[str, Any],
                     build: Callable[[Path], None]) -> Path:
        """Return the folder holding the artifact for `config`, building it if needed."""
        found = self.lookup(kind, config)
        if found is not None:
            return found
        key = self.key(config)
        dest = Path(self.root) / kind / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(dest.parent / f".{key}.lock"):
            if (dest / MANIFEST).is_file():  # another process built it meanwhile
                return dest
            tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=dest.parent))
            try:
                build(tmp)
                (tmp / MANIFEST).write_text(
                    json.dumps({"kind": kind, "key": key, "config": config}, indent=2,
                               sort_keys=True, default=str) + "\n", encoding="utf-8")
                if dest.exists():  # a stale, unfinished folder from a killed build
                    shutil.rmtree(dest)
                os.replace(tmp, dest)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        return dest

    def work_dir(self, kind: str, config: dict[str, Any]) -> Path:
        """A persistent scratch folder for resumable builds (e.g. training checkpoints)."""
        d = Path(self.root) / kind / f"{self.key(config)}.work"
        d.mkdir(parents=True, exist_ok=True)
        return d


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock; the holder's pid is in the file, so a waiter can say whom it waits for
    (a model another process is training can take half an hour)."""
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            logging.getLogger("hmvlm_bench").warning(
                "waiting for process %s, which is building %s (lock %s)", holder, path.parent.name + "/" +
                path.name.removeprefix(".").removesuffix(".lock"), path)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
