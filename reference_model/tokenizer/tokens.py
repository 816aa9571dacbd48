"""Codes <-> LLM token strings (HMVLM's extended vocabulary V = [text, motion, pose]).

Token names: motion part tokens `<m{part}_{k}>`, pose part tokens `<p{part}_{k}>` with part
abbreviations t, la, ra, ll, rl (PART_NAMES order: torso, left_arm, right_arm, left_leg,
right_leg), e.g. `<mt_12>`, `<mla_3>`. A single-stream (whole-body) tokenizer uses `<m_{k}>`
/ `<p_{k}>`. Markers: `<motion>`, `</motion>`, `<pose>`, `</pose>`.

Flattening order is time-major: for each step t, the n_streams tokens in PART_NAMES order.
A sequence is `<motion>` + tokens + `</motion>`.

Parsing never raises: it returns the longest prefix of *complete* steps whose tokens are
all well-formed and in the expected stream order, plus a `DecodeReport` saying how many
tokens were dropped and why. Anything between tokens that is not a `<...>` token (spaces,
text) is ignored; text outside the markers is ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal, Sequence

import numpy as np

from hmvlm_bench.motion.skeleton import PART_NAMES

# torso, left_arm, right_arm, left_leg, right_leg -> t, la, ra, ll, rl
PART_ABBREV: Final[dict[str, str]] = {
    name: "".join(w[0] for w in name.split("_")) for name in PART_NAMES
}
Kind = Literal["motion", "pose"]
_TOKEN_RE = re.compile(r"<[^<>\s]+>")


@dataclass
class DecodeReport:
    dropped: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.dropped == 0 and not self.reasons


def stream_names(n_streams: int) -> tuple[str, ...]:
    if n_streams == len(PART_NAMES):
        return tuple(PART_ABBREV[p] for p in PART_NAMES)
    if n_streams == 1:
        return ("",)
    raise ValueError(f"n_streams must be 1 or {len(PART_NAMES)}, got {n_streams}")


def markers(kind: Kind = "motion") -> tuple[str, str]:
    return f"<{kind}>", f"</{kind}>"


def code_token(kind: Kind, stream: str, k: int) -> str:
    return f"<{kind[0]}{stream}_{k}>"


def token_vocabulary(n_streams: int, codebook_size: int, kinds: Sequence[Kind] = ("motion", "pose")) -> list[str]:
    """All new tokens for vocabulary extension: per kind, markers then codes (stream-major)."""
    out: list[str] = []
    for kind in kinds:
        out += list(markers(kind))
        for s in stream_names(n_streams):
            out += [code_token(kind, s, k) for k in range(codebook_size)]
    return out


def codes_to_tokens(codes: np.ndarray | Sequence[Sequence[int]], kind: Kind = "motion",
                    with_markers: bool = True) -> list[str]:
    """(T', n_streams) integer codes -> token list, time-major."""
    arr = np.asarray(codes, dtype=np.int64)
    if arr.ndim != 2:
        raise ValueError(f"codes must be (steps, n_streams), got shape {arr.shape}")
    names = stream_names(arr.shape[1])
    toks = [code_token(kind, names[s], int(arr[t, s])) for t in range(arr.shape[0]) for s in range(arr.shape[1])]
    if with_markers:
        start, end = markers(kind)
        toks = [start, *toks, end]
    return toks


def codes_to_text(codes: np.ndarray | Sequence[Sequence[int]], kind: Kind = "motion") -> str:
    return "".join(codes_to_tokens(codes, kind))


def tokens_to_codes(tokens: str | Sequence[str], n_streams: int, codebook_size: int,
                    kind: Kind = "motion") -> tuple[np.ndarray, DecodeReport]:
    """Parse a (possibly malformed) token sequence. Returns (steps, n_streams) int64 codes
    of the longest valid prefix of complete steps and a report; never raises."""
    report = DecodeReport()
    empty = np.zeros((0, max(n_streams, 1)), dtype=np.int64)
    try:
        names = stream_names(n_streams)
        if isinstance(tokens, str):
            toks = _TOKEN_RE.findall(tokens)
        else:
            toks = [t.strip() if isinstance(t, str) else repr(t) for t in tokens]
    except Exception as exc:  # malformed input of any type: nothing decodable
        report.reasons.append(f"unreadable input: {exc}")
        return empty, report
    start, end = markers(kind)
    if start in toks:
        toks = toks[toks.index(start) + 1:]
    else:
        report.reasons.append(f"missing {start}")
    if end in toks:
        toks = toks[: toks.index(end)]
    else:
        report.reasons.append(f"missing {end}")
    prefix = f"<{kind[0]}"
    codes: list[int] = []
    for i, tok in enumerate(toks):
        s = len(codes) % n_streams
        k = _parse_code(tok, prefix, names[s], codebook_size)
        if k is None:
            report.reasons.append(f"token {i} {tok!r}: expected {code_token(kind, names[s], 0)[:-2]}k> "
                                  f"with 0 <= k < {codebook_size}")
            break
        codes.append(k)
    n_full = len(codes) // n_streams
    if len(codes) % n_streams:
        report.reasons.append(f"incomplete last step ({len(codes) % n_streams} of {n_streams} tokens)")
    report.dropped = len(toks) - n_full * n_streams
    return np.asarray(codes[: n_full * n_streams], dtype=np.int64).reshape(n_full, n_streams), report


def _parse_code(tok: str, prefix: str, stream: str, codebook_size: int) -> int | None:
    head = f"{prefix}{stream}_"
    if not (tok.startswith(head) and tok.endswith(">")):
        return None
    digits = tok[len(head):-1]
    if not digits.isascii() or not digits.isdigit() or (len(digits) > 1 and digits[0] == "0"):
        return None
    k = int(digits)
    return k if k < codebook_size else None
