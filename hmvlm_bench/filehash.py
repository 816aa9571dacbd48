"""Content digests of files and folders, for fingerprints that must change when bytes do.

A fingerprint of names and sizes served a checkpoint edited in place (same size, new
values) from cache; these hash the bytes. The sha256 of a file is memoised by
(path, size, mtime_ns, ctime_ns, inode), in memory and in `<cache>/file-digests.json`, so a
warm run only stats its files: any write changes ctime (which no tool can set back), so an
edit is never missed, even by a copy that preserves mtime.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from pathlib import Path
from typing import Iterable

from hmvlm_bench.checkpoint_io import file_sha256

log = logging.getLogger("hmvlm_bench")
MEMO_NAME = "file-digests.json"
_BIG = 256 << 20  # log before hashing a file this large (first time only)


class _Memo:
    """path -> [size, mtime_ns, ctime_ns, inode, sha256]; loaded lazily, saved at exit."""

    def __init__(self) -> None:
        self._entries: dict[str, list] | None = None
        self._dirty = False
        self._lock = threading.Lock()

    @staticmethod
    def _file() -> Path:
        from hmvlm_bench.artifacts import default_cache_dir

        return default_cache_dir() / MEMO_NAME

    def _load(self) -> dict[str, list]:
        if self._entries is None:
            try:
                data = json.loads(self._file().read_text())
                self._entries = data if isinstance(data, dict) else {}
            except (OSError, ValueError):  # absent or unreadable: start afresh
                self._entries = {}
        return self._entries

    def digest(self, path: Path) -> str:
        p = Path(path).resolve()
        st = p.stat()
        sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        with self._lock:
            hit = self._load().get(str(p))
            if isinstance(hit, list) and hit[:4] == sig:
                return str(hit[4])
        if st.st_size >= _BIG:
            log.info("hashing %s (%.1f GB, once; then memoised)", p, st.st_size / 1e9)
        value = file_sha256(p)
        with self._lock:
            self._load()[str(p)] = [*sig, value]
            self._dirty = True
        return value

    def flush(self) -> None:
        """Merge our entries into the memo file (atomic replace; losing a race only costs a
        re-hash later, never a wrong digest, since every entry is checked against stat)."""
        with self._lock:
            if not self._dirty or self._entries is None:
                return
            target = self._file()
            try:
                merged = {}
                try:
                    old = json.loads(target.read_text())
                    merged = old if isinstance(old, dict) else {}
                except (OSError, ValueError):
                    pass
                merged.update(self._entries)
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{MEMO_NAME}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(merged, sort_keys=True))
                os.replace(tmp, target)
                self._dirty = False
            except OSError as exc:  # a read-only cache only loses the speed-up
                log.debug("file digest memo not saved: %s", exc)


_MEMO = _Memo()
atexit.register(_MEMO.flush)


def file_digest(path: Path) -> str:
    """sha256 (hex) of a file's bytes, memoised by its stat signature."""
    return _MEMO.digest(Path(path))


def tree_digest(root: Path, exclude: Iterable[str] = (), suffixes: Iterable[str] = ()) -> str:
    """sha256 (hex, 16 chars) over (relative path, content digest) of every file below
    `root` (or of `root` itself when it is a file). `exclude`: top-level names to skip
    (e.g. a checkpoint's `work/` resume state); `suffixes`: only files ending so."""
    import hashlib

    root = Path(root)
    if root.is_file():
        digest = file_digest(root)
        _MEMO.flush()
        return digest[:16]
    skip, ends = set(exclude), tuple(suffixes)
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in skip or not p.is_file() or (ends and not p.name.endswith(ends)):
            continue
        h.update(rel.as_posix().encode() + b"\0" + file_digest(p).encode() + b"\n")
    _MEMO.flush()
    return h.hexdigest()[:16]


def files_digest(paths: Iterable[Path]) -> str:
    """sha256 (hex, 16 chars) over (name, content digest) of the given files, in order."""
    import hashlib

    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).name.encode() + b"\0" + file_digest(p).encode() + b"\n")
    _MEMO.flush()
    return h.hexdigest()[:16]
