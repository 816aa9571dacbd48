"""The result file schema: one JSON per (model, task) at `<out>/<model>/<task>.json`,
per-sample outputs beside it as `<task>.samples.jsonl`. Reports read only these files.

`schema_version` 1 is the first layout. When it changes, `_upgrade` learns to read the
old one, and tests keep a committed fixture of every version (historic results stay readable).
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hmvlm_bench.errors import UserError

SCHEMA_VERSION = 1


class MetricRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float | None  # None only when a metric is undefined (never NaN in files)
    ci: float | None = None  # half-width of the 95% confidence interval
    higher_is_better: bool | None = True
    n: int | None = None
    values: list[float] | None = None

    @field_validator("value", "ci")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError(f"metric values must be finite, got {v}")
        return v

    @field_validator("values")
    @classmethod
    def _finite_values(cls, v: list[float] | None) -> list[float] | None:
        # a NaN replication made `compare` print "+nan ... worse" and exit 0
        bad = [x for x in v or () if not math.isfinite(x)]
        if bad:
            raise ValueError(f"per-replication values must be finite, got {bad[0]}")
        return v


class Timing(BaseModel):
    started: str
    finished: str
    seconds: float


class ResultFile(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())
    schema_version: int = SCHEMA_VERSION
    task: str
    task_version: int
    task_hash: str
    model: str
    fingerprint: str
    metrics: dict[str, MetricRecord]
    main_metric: str = ""
    n_samples: int
    seed: int
    preset: str
    dataset: dict[str, Any] = Field(default_factory=dict)
    evaluator: dict[str, Any] | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    git_hash: str | None = None
    world_size: int = 1
    config: dict[str, Any] = Field(default_factory=dict)
    timing: Timing
    extra: dict[str, Any] = Field(default_factory=dict)


def _upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file to the current schema (no older version exists yet)."""
    return raw


def load_result(path: Path) -> ResultFile:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"unreadable result file {path}: {exc}") from exc
    if not isinstance(raw, dict) or "schema_version" not in raw:
        raise UserError(f"{path} is not an hmvlm-bench result file (no schema_version)")
    version = raw["schema_version"]
    # an int (bool is one to Python, not to us); "1", 1.0 or null are not a schema version
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"{path}: schema_version must be an integer >= 1, got {version!r}")
    if version > SCHEMA_VERSION:
        raise UserError(f"{path} has schema_version {raw['schema_version']}; "
                        f"this hmvlm-bench reads up to {SCHEMA_VERSION}: upgrade the package")
    try:
        return ResultFile.model_validate(_upgrade(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(map(str, first["loc"]))
        raise UserError(f"invalid result file {path}: {loc}: {first['msg']}") from exc


def result_path(out_dir: Path, model: str, task: str) -> Path:
    return Path(out_dir) / model / f"{task}.json"


def samples_path(out_dir: Path, model: str, task: str) -> Path:
    return Path(out_dir) / model / f"{task}.samples.jsonl"


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same folder, fsync, then rename: a kill never
    leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # "No space left on device" alone does not say where
        raise


def dump_result(result: ResultFile) -> str:
    return json.dumps(result.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def write_result(out_dir: Path, result: ResultFile, samples: Iterable[dict[str, Any]] = ()) -> Path:
    """Samples first, result last: the result file is the completion marker."""
    lines = [json.dumps(s, sort_keys=True, default=_json_default) for s in samples]
    atomic_write_text(samples_path(out_dir, result.model, result.task),
                      "\n".join(lines) + ("\n" if lines else ""))
    path = result_path(out_dir, result.model, result.task)
    atomic_write_text(path, dump_result(result))
    return path


def iter_results(results_dir: Path) -> list[ResultFile]:
    """Every result file below `results_dir` (sorted by model, task)."""
    root = Path(results_dir)
    if not root.is_dir():
        raise UserError(f"results directory {root} does not exist")
    out = [load_result(p) for p in sorted(root.glob("*/*.json"))]
    return sorted(out, key=lambda r: (r.model, r.task))


def load_samples(results_dir: Path, model: str, task: str) -> list[dict[str, Any]]:
    """The per-sample records of a result (empty when absent); a damaged file (truncated
    line, not JSON, not UTF-8) is named in one line with its line number."""
    p = samples_path(results_dir, model, task)
    if not p.exists():
        return []
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"unreadable samples file {p}: {exc}") from None
    out: list[dict[str, Any]] = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{p}: line {i} is not valid JSON ({exc.msg}; truncated file?)") from None
        if not isinstance(rec, dict):
            raise UserError(f"{p}: line {i} is not a JSON object")
        out.append(rec)
    return out


def _json_default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
    except ImportError:  # pragma: no cover
        pass
    return str(o)
