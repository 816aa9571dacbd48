"""A cache of built artifacts (synthetic datasets, trained checkpoints) keyed by the hash
of the config that builds them. Building happens in a temp folder renamed into place, so
an interrupted build leaves nothing that looks finished (and its temp folder is removed by
the next build in that folder); a file lock lets one process build while others (other
ranks of `accelerate launch`, a second run) wait.

Read-only `shipped` roots (checkpoints committed in the repo) are searched first.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hmvlm_bench.hashing import stable_hash
from hmvlm_bench.locking import FileLock, file_lock

MANIFEST = "artifact.json"


def default_cache_dir() -> Path:
    env = os.environ.get("HMVLM_BENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hmvlm_bench"


def shipped_roots() -> tuple[Path, ...]:
    """The repository's committed checkpoints (`checkpoints/`), when this is a checkout."""
    root = Path(__file__).resolve().parents[1] / "checkpoints"
    return (root,) if root.is_dir() else ()


def open_store(cache_dir: Path | str | None = None, shipped: bool = True) -> "ArtifactStore":
    """The artifact store every command uses: the cache (`cache_dir`, default
    $HMVLM_BENCH_CACHE or ~/.cache/hmvlm_bench) looked up after the repository's shipped
    checkpoints (`shipped_roots()`; `shipped=False` leaves them out, as tests do)."""
    return ArtifactStore(Path(cache_dir) if cache_dir else default_cache_dir(),
                         shipped_roots() if shipped else ())


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
        sweep_stale_builds(dest.parent)
        lock = dest.parent / f".{key}.lock"
        with file_lock(lock, on_wait=_wait_message(lock)):
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


def _wait_message(path: Path) -> Callable[[str], None]:
    """The holder's pid says whom a waiter waits for (a model another process is training
    can take half an hour)."""
    what = path.parent.name + "/" + path.name.removeprefix(".").removesuffix(".lock")

    def say(holder: str) -> None:
        logging.getLogger("hmvlm_bench").warning(
            "waiting for process %s, which is building %s (lock %s)", holder, what, path)
    return say


def sweep_stale_builds(folder: Path) -> list[Path]:
    """Remove the temp folders (`.KEY.xxxx`) of builds killed before their rename; a build
    still running holds its key's lock, so its folder is left alone. Returns what went."""
    gone: list[Path] = []
    if not folder.is_dir():
        return gone
    for tmp in sorted(folder.iterdir()):
        parts = tmp.name.split(".")
        # mkdtemp(prefix=".KEY.") names: '', KEY, random suffix; lock files are '.KEY.lock'
        if len(parts) != 3 or parts[0] or not parts[1] or parts[2] == "lock" or not tmp.is_dir():
            continue
        lock = FileLock(folder / f".{parts[1]}.lock")
        if not lock.acquire(blocking=False):
            continue  # being built right now
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            gone.append(tmp)
        finally:
            lock.release()
    if gone:
        logging.getLogger("hmvlm_bench").info(
            "removed %d unfinished build folder(s) left by killed runs in %s", len(gone), folder)
    return gone
