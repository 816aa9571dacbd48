"""`stable_hash`: the key of every artifact, task and result. A leaf module (standard
library only), so anything may import it without an import cycle; `contracts` re-exports it."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def stable_hash(obj: Any, n: int = 16) -> str:
    """sha256 of a canonical JSON dump (sorted keys), first `n` hex digits."""
    blob = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:n]
