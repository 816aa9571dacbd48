"""Loaders for HumanML3D-layout motion datasets (HumanML3D, KIT-ML, our synthetic set).

Layout (EricGuo5513/HumanML3D): `new_joint_vecs/<id>.npy` (T, D) features,
`new_joints/<id>.npy` (T, J, 3), `texts/<id>.txt` with lines `caption#tokens#start#end`,
`Mean.npy`, `Std.npy`, `train.txt`/`val.txt`/`test.txt` (+ optional
`test_compositional.txt`). Ids beginning with `M` are left-right mirrored copies.

Item rules follow Guo et al. `data/dataset.py` (Text2MotionDatasetV2): a clip is kept when
min_len <= T < 200; captions with start = end = 0 describe the whole clip; a caption with a
time span becomes its own item, frames [int(start*fps), int(end*fps)), kept under the same
length rule. (The reference multiplies by 20 for KIT as well; we use the dataset's fps.)
Items are in split-file order, span items right after their clip: deterministic.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from hmvlm_bench.filehash import file_digest
from hmvlm_bench.errors import UserError, did_you_mean

SPLITS: tuple[str, ...] = ("train", "val", "test", "test_compositional")


@dataclass(frozen=True)
class DatasetSpec:
    """Static facts of a dataset kind; `root` is where its files live."""

    name: str  # label shown in results (defaults to the kind)
    kind: str  # 'humanml3d' | 'kit' | 'synthetic'
    root: Path
    fps: float
    feature_dim: int
    n_joints: int
    min_len: int  # shortest clip kept (frames)
    max_len_exclusive: int = 200  # clips of this many frames or more are dropped
    max_motion_length: int = 196  # evaluators crop/pad to this (Guo et al. max_motion_length)

    def __post_init__(self) -> None:
        if self.min_len < 1 or self.max_len_exclusive <= self.min_len:
            raise UserError(f"bad length filter [{self.min_len}, {self.max_len_exclusive}) for {self.name}")


# Source: Guo et al. 2022 / text-to-motion options (t2m: 263-d, 22 joints, 20 fps, min 40;
# kit: 251-d, 21 joints, 12.5 fps, min 24).
_KINDS: dict[str, dict[str, float | int]] = {
    "humanml3d": dict(fps=20.0, feature_dim=263, n_joints=22, min_len=40),
    "kit": dict(fps=12.5, feature_dim=251, n_joints=21, min_len=24),
    "synthetic": dict(fps=20.0, feature_dim=263, n_joints=22, min_len=40),
}
_ALIASES = {"t2m": "humanml3d", "hml3d": "humanml3d", "kit-ml": "kit", "kitml": "kit", "kit_ml": "kit"}


def dataset_spec(kind: str, root: str | Path, name: str | None = None) -> DatasetSpec:
    """DatasetSpec for a known kind ('humanml3d', 'kit', 'synthetic'; aliases t2m, kit-ml)."""
    key = _ALIASES.get(kind.lower(), kind.lower())
    if key not in _KINDS:
        raise UserError(f"unknown dataset kind '{kind}'{did_you_mean(kind, list(_KINDS) + list(_ALIASES))}")
    return DatasetSpec(name=name or key, kind=key, root=Path(root), **_KINDS[key])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Caption:
    text: str
    tokens: tuple[str, ...]  # "word/POS" strings, as in HumanML3D texts
    start: float = 0.0  # seconds; start = end = 0 means the whole clip
    end: float = 0.0


@dataclass
class MotionSample:
    id: str  # clip id, or "<clip>#<start_frame>-<end_frame>" for a captioned span
    features: np.ndarray  # (T, D) float32, raw (not normalised)
    captions: list[Caption] = field(default_factory=list)

    @property
    def length(self) -> int:
        return int(self.features.shape[0])


def parse_caption_line(line: str) -> Caption:
    """Parse one `caption#tokens#start#end` line (NaN times read as 0, as the reference)."""
    parts = line.rstrip("\n").split("#")
    if len(parts) < 4:
        raise ValueError(f"expected 'caption#tokens#start#end', got {line!r}")
    start, end = float(parts[2]), float(parts[3])
    return Caption(
        text=parts[0].strip(),
        tokens=tuple(t for t in parts[1].split(" ") if t),
        start=0.0 if math.isnan(start) else start,
        end=0.0 if math.isnan(end) else end,
    )


_VALIDATE_HINT = " ('hmvlm-bench validate --data NAME=PATH' lists every problem of a dataset)"


def read_captions(path: Path) -> list[Caption]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"caption file missing: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"caption file is not UTF-8: {path}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(parse_caption_line(line))
        except ValueError as exc:
            raise UserError(f"{path}:{n}: {exc}") from None
    return out


def read_split(root: Path, split: str) -> list[str]:
    path = root / f"{split}.txt"
    if not path.is_file():
        found = [s for s in SPLITS if (root / f"{s}.txt").is_file()]
        raise UserError(f"split file {path} not found (splits here: {', '.join(found) or 'none'})")
    return [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]


def _npy_shape(path: Path) -> tuple[int, ...]:
    try:
        return tuple(np.load(path, mmap_mode="r").shape)
    except FileNotFoundError:
        raise UserError(f"motion file missing: {path}") from None
    except ValueError as exc:
        raise UserError(f"unreadable motion file {path}: {exc}") from None


@dataclass(frozen=True)
class _Item:
    id: str
    clip: str
    start: int
    end: int  # frame span [start, end) of the clip
    captions: tuple[Caption, ...]


class MotionDataset:
    """One split of a HumanML3D-layout dataset; features load lazily per item.

    `limit` keeps the first `limit` items (after filtering) in deterministic order;
    `mirrored=False` drops ids beginning with 'M'; `require_captions=False` keeps clips with
    no caption file (e.g. imported BVH) as uncaptioned items.
    """

    def __init__(
        self,
        spec: DatasetSpec,
        split: str = "test",
        *,
        limit: int | None = None,
        mirrored: bool = True,
        require_captions: bool = True,
    ) -> None:
        self.spec = spec
        self.split = split
        self._options = dict(mirrored=mirrored, require_captions=require_captions)
        self.root = Path(spec.root)
        if not self.root.is_dir():
            raise UserError(f"dataset directory not found: {self.root}")
        self.motion_dir = self.root / "new_joint_vecs"
        self.text_dir = self.root / "texts"
        if not self.motion_dir.is_dir():
            raise UserError(f"{self.root} has no new_joint_vecs/ directory: not a HumanML3D-layout dataset")
        self.mean, self.std = self._load_stats()
        ids = read_split(self.root, split)
        if not mirrored:
            ids = [i for i in ids if not i.startswith("M")]
        self._items: list[_Item] = []
        for clip in ids:
            self._index_clip(clip, require_captions)
            if limit is not None and len(self._items) >= limit:
                break
        if limit is not None:
            self._items = self._items[:limit]
        self._hash: str | None = None

    # -- indexing -------------------------------------------------------------------------
    def _load_stats(self) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for name in ("Mean.npy", "Std.npy"):
            path = self.root / name
            if not path.is_file():
                raise UserError(f"{path} missing: the dataset needs Mean.npy and Std.npy")
            arr = np.load(path).astype(np.float32)
            if arr.shape != (self.spec.feature_dim,):
                raise UserError(f"{path} has shape {arr.shape}, expected ({self.spec.feature_dim},) for {self.spec.name}")
            if not np.isfinite(arr).all():
                raise UserError(f"{path} contains NaN or inf")
            out.append(arr)
        if (out[1] <= 0).any():
            raise UserError(f"{self.root / 'Std.npy'} has {int((out[1] <= 0).sum())} zero/negative entries")
        return out[0], out[1]

    def _keep(self, n: int) -> bool:
        return self.spec.min_len <= n < self.spec.max_len_exclusive

    def _index_clip(self, clip: str, require_captions: bool) -> None:
        path = self.motion_dir / f"{clip}.npy"
        shape = _npy_shape(path)
        if len(shape) != 2 or shape[1] != self.spec.feature_dim:
            raise UserError(f"{path} has shape {shape}, expected (T, {self.spec.feature_dim}) for {self.spec.name}")
        n = shape[0]
        # a damaged file is refused, never dropped unseen like a clip the length filter
        # (the protocol's [min_len, max_len) rule) leaves out
        if n == 0:
            raise UserError(f"{path} is a zero-length motion (0 frames){_VALIDATE_HINT}")
        if not self._keep(n):
            return
        text_path = self.text_dir / f"{clip}.txt"
        if not require_captions and not text_path.exists():
            self._items.append(_Item(clip, clip, 0, n, ()))
            return
        captions = read_captions(text_path)
        if not captions:
            if not require_captions:  # as a missing caption file: an uncaptioned clip
                self._items.append(_Item(clip, clip, 0, n, ()))
                return
            raise UserError(f"caption file {text_path} holds no captions{_VALIDATE_HINT}")
        whole: list[Caption] = []
        spans: list[_Item] = []
        for cap in captions:
            if cap.start == 0.0 and cap.end == 0.0:
                whole.append(cap)
                continue
            a, b = int(cap.start * self.spec.fps), min(int(cap.end * self.spec.fps), n)
            if self._keep(b - a):
                spans.append(_Item(f"{clip}#{a}-{b}", clip, a, b, (cap,)))
        if whole:
            self._items.append(_Item(clip, clip, 0, n, tuple(whole)))
        self._items.extend(spans)

    # -- access ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[MotionSample]:
        for i in range(len(self)):
            yield self[i]

    @property
    def ids(self) -> list[str]:
        return [it.id for it in self._items]

    def lengths(self) -> np.ndarray:
        """Frame count of every item, without loading features."""
        return np.array([it.end - it.start for it in self._items], dtype=np.int64)

    def __getitem__(self, index: int) -> MotionSample:
        it = self._items[index]
        path = self.motion_dir / f"{it.clip}.npy"
        feats = np.load(path)[it.start : it.end].astype(np.float32)
        if not np.isfinite(feats).all():
            raise UserError(f"{path} contains NaN or inf")
        return MotionSample(id=it.id, features=feats, captions=list(it.captions))

    def joints(self, index: int) -> np.ndarray | None:
        """Stored `new_joints` positions of item `index` (T, J, 3), or None if absent."""
        it = self._items[index]
        path = self.root / "new_joints" / f"{it.clip}.npy"
        return np.load(path)[it.start : it.end].astype(np.float32) if path.is_file() else None

    def normalize(self, feats: np.ndarray) -> np.ndarray:
        return (feats - self.mean) / self.std

    def denormalize(self, feats: np.ndarray) -> np.ndarray:
        return feats * self.std + self.mean

    def with_split(self, split: str, limit: int | None = None) -> "MotionDataset":
        """The same dataset (spec and options), another split."""
        return MotionDataset(self.spec, split, limit=limit, **self._options)

    def available_splits(self) -> list[str]:
        return [s for s in SPLITS if (self.root / f"{s}.txt").is_file()]

    # -- provenance -----------------------------------------------------------------------
    def _update_hash(self, h: "hashlib._Hash") -> None:
        h.update(json.dumps([self.spec.kind, self.split, self.spec.min_len,
                             self.spec.max_len_exclusive, self.ids]).encode())
        for clip in dict.fromkeys(it.clip for it in self._items):
            h.update(clip.encode() + b"\0")
            h.update(_digest(self.motion_dir / f"{clip}.npy"))
            txt = self.text_dir / f"{clip}.txt"
            h.update(_digest(txt) if txt.exists() else b"-")

    def dataset_hash(self, all_splits: bool = False) -> str:
        """sha256 (hex, 16 chars) over kind, split, length filter, item ids and the bytes of
        every file the items read (features, captions) plus Mean/Std. Content only (no
        paths, sizes or mtimes), so copies on other machines hash the same. `all_splits`
        covers every split file present instead of this split only."""
        if all_splits:
            h = hashlib.sha256()
            for name in ("Mean.npy", "Std.npy"):
                h.update(_digest(self.root / name))
            for split in self.available_splits():
                self.with_split(split)._update_hash(h)
            return h.hexdigest()[:16]
        if self._hash is None:
            h = hashlib.sha256()
            for name in ("Mean.npy", "Std.npy"):
                h.update(_digest(self.root / name))
            self._update_hash(h)
            self._hash = h.hexdigest()[:16]
        return self._hash

    def __repr__(self) -> str:
        return f"MotionDataset({self.spec.name!r}, split={self.split!r}, n={len(self)}, root='{self.root}')"




def detect_kind(root: Path) -> str:
    """Guess the dataset kind of a directory: synthetic.json, else the width of Mean.npy."""
    if (root / "synthetic.json").is_file():
        return "synthetic"
    mean = root / "Mean.npy"
    if mean.is_file():
        width = np.load(mean, mmap_mode="r").shape[-1]
        for kind, facts in _KINDS.items():
            if facts["feature_dim"] == width and kind != "synthetic":
                return kind
        raise UserError(f"{mean} has width {width}: neither HumanML3D (263) nor KIT-ML (251)")
    raise UserError(f"cannot tell the dataset kind of {root}: no synthetic.json or Mean.npy")


def load_dataset(
    name_or_path: str | Path,
    split: str = "test",
    *,
    kind: str | None = None,
    name: str | None = None,
    limit: int | None = None,
    mirrored: bool = True,
    require_captions: bool = True,
) -> MotionDataset:
    """Open a dataset from 'kind=PATH' (e.g. 'humanml3d=/data/HumanML3D') or a bare PATH.

    A bare path's kind is `kind` if given, else detected (synthetic.json or Mean.npy
    width). `name` labels the dataset in results (default: the kind). To get the embedded
    synthetic set, generate it first with `hmvlm_bench.motion.synthetic.synthesize`.
    """
    text = str(name_or_path)
    if "=" in text and not Path(text).exists():
        given, _, path = text.partition("=")
        kind = kind or given
        root = Path(path).expanduser()
    else:
        root = Path(text).expanduser()
        if not root.exists():
            if text.lower() in _KINDS or text.lower() in _ALIASES:
                raise UserError(f"dataset '{text}' needs a path: use '{text}=PATH'")
            raise UserError(f"dataset directory not found: {root}")
        kind = kind or detect_kind(root)
    spec = dataset_spec(kind, root, name=name)
    return MotionDataset(spec, split, limit=limit, mirrored=mirrored, require_captions=require_captions)


def _digest(path: Path) -> bytes:
    # memoised by stat signature: a warm run stats the files instead of reading them
    return bytes.fromhex(file_digest(path))
