"""One measured figure of a benchmark suite, and ratios to a baseline measured in the same run."""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Sequence

# Where a ratio is stated against a target (from the issue), the target is kept with the record
# so the report can say met / missed without knowing the suite.
_OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b}


@dataclass(frozen=True)
class BenchRecord:
    """name: dotted id unique within a suite (e.g. `fwdbwd.moe_batched`); value in `unit`;
    `baseline`: name of the record it is compared to (same suite, same run) and `ratio` =
    value / baseline value (for times: < 1 is faster); `target`: e.g. "<= 1.25" on the ratio."""

    name: str
    value: float
    unit: str
    baseline: Optional[str] = None
    ratio: Optional[float] = None
    higher_is_better: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    target: Optional[str] = None
    # (min, max) over rounds of the judged figure (the ratio when there is a baseline, else
    # the value); the figure itself is the median. None: the suite measured no spread.
    spread: Optional[tuple[float, float]] = None

    def __post_init__(self) -> None:
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"bench record name must be non-empty without spaces, got {self.name!r}")
        if not math.isfinite(self.value):
            raise ValueError(f"bench record {self.name}: value must be finite, got {self.value}")
        if (self.baseline is None) != (self.ratio is None):
            raise ValueError(f"bench record {self.name}: baseline and ratio go together")
        if self.ratio is not None and not math.isfinite(self.ratio):
            raise ValueError(f"bench record {self.name}: ratio must be finite, got {self.ratio}")
        if self.target is not None:
            parse_target(self.target)
        if self.spread is not None:
            lo, hi = self.spread
            mid = self.ratio if self.ratio is not None else self.value
            if not (math.isfinite(lo) and math.isfinite(hi) and lo <= mid * (1 + 1e-9) + 1e-12
                    and mid <= hi * (1 + 1e-9) + 1e-12):
                raise ValueError(f"bench record {self.name}: spread {self.spread} must bracket {mid}")

    @property
    def target_met(self) -> Optional[bool]:
        """Whether the judged figure (`ratio`, else `value`) meets `target`; None without one.
        With a spread, "met" needs every round to meet it: a median that meets the target
        while some rounds miss it is not met (a busy machine once made a 0.36x look fine)."""
        if self.target is None:
            return None
        op, bound = parse_target(self.target)
        ok = _OPS[op](self.ratio if self.ratio is not None else self.value, bound)
        if ok and self.spread is not None:
            ok = all(_OPS[op](x, bound) for x in self.spread)
        return ok

    @property
    def verdict(self) -> str:
        """'yes' | 'no' | 'no (spread)' (median meets, not every round) | '' (no target)."""
        met = self.target_met
        if met is None:
            return ""
        if met:
            return "yes"
        op, bound = parse_target(self.target or "")
        median_ok = _OPS[op](self.ratio if self.ratio is not None else self.value, bound)
        return "no (spread)" if median_ok else "no"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "target_met": self.target_met, "verdict": self.verdict}


def parse_target(target: str) -> tuple[str, float]:
    """"<= 1.25" -> ("<=", 1.25)."""
    text = target.strip()
    for op in ("<=", ">=", "<", ">"):
        if text.startswith(op):
            try:
                return op, float(text[len(op):])
            except ValueError:
                break
    raise ValueError(f"bench target must look like '<= 1.25', got {target!r}")


def ratio_record(
    name: str, value: float, baseline: BenchRecord, *, unit: Optional[str] = None,
    higher_is_better: Optional[bool] = None, params: Optional[dict[str, Any]] = None,
    target: Optional[str] = None, ratio: Optional[float] = None,
    rounds: Optional[Sequence[float]] = None,
) -> BenchRecord:
    """A record compared to `baseline`: ratio = value / baseline.value unless a paired `ratio`
    (e.g. a median of per-round ratios) is given, or `rounds` (the per-round paired ratios:
    their median is the ratio, their min/max the spread). Unit and direction default to the
    baseline's."""
    spread = None
    if rounds is not None and len(rounds):
        ratio = float(statistics.median(rounds))
        spread = (float(min(rounds)), float(max(rounds)))
    if ratio is None:
        if baseline.value == 0:
            raise ValueError(f"cannot take a ratio of {name} to {baseline.name}: baseline value is 0")
        ratio = value / baseline.value
    return BenchRecord(
        name=name, value=value, unit=unit if unit is not None else baseline.unit,
        baseline=baseline.name, ratio=ratio,
        higher_is_better=baseline.higher_is_better if higher_is_better is None else higher_is_better,
        params=dict(params or {}), target=target, spread=spread,
    )
