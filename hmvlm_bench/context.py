"""What models and tasks receive from the harness: preset, data, artifacts, seeds, world."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence, TypeVar

from hmvlm_bench.artifacts import ArtifactStore
from hmvlm_bench.hashing import stable_hash
from hmvlm_bench.errors import UserError
from hmvlm_bench.presets import Preset

if TYPE_CHECKING:  # pragma: no cover
    from hmvlm_bench.motion.dataset import MotionDataset

T = TypeVar("T")



@dataclass
class DataCatalog:
    """Dataset name -> directory. `synthetic` is generated on demand from the preset."""

    preset: Preset
    artifacts: ArtifactStore
    paths: dict[str, Path] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    def synthetic_config(self) -> dict[str, Any]:
        from hmvlm_bench.motion import synthetic

        return {"size": self.preset.synthetic_size, "seed": self.preset.synthetic_seed,
                "generator": getattr(synthetic, "GENERATOR_VERSION", 1)}

    def root(self, name: str) -> Path:
        if name in self.paths:
            p = Path(self.paths[name])
            if not p.is_dir():
                raise UserError(f"dataset '{name}': directory {p} does not exist")
            return p
        if name == "synthetic":
            from hmvlm_bench.motion.synthetic import synthesize

            cfg = self.synthetic_config()
            return self.artifacts.get_or_build(
                "synthetic", cfg, lambda tmp: synthesize(tmp, size=cfg["size"], seed=cfg["seed"]))
        raise UserError(f"dataset '{name}' needs a path: pass --data {name}=DIR")

    def get(self, name: str, split: str = "test", limit: int | None = None) -> "MotionDataset":
        """One split of a dataset (cached). The kind is detected from the folder unless
        the name says it (humanml3d*, kit*)."""
        key = (name, split, limit)
        if key not in self._cache:
            from hmvlm_bench.motion.dataset import load_dataset

            kind = "kit" if name.startswith("kit") else "humanml3d" if name.startswith("humanml3d") else None
            self._cache[key] = load_dataset(self.root(name), split, kind=kind, name=name, limit=limit)
        return self._cache[key]

    def fingerprint(self, name: str, split: str = "test") -> str:
        """Cheap identity of a dataset: its generator config, or the split's content hash."""
        if name == "synthetic" and name not in self.paths:
            return "synthetic-" + stable_hash(self.synthetic_config())
        return self.get(name, split).dataset_hash()


@dataclass
class World:
    """Data-parallel layout. rank/size come from torch.distributed when initialised."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        return list(items[self.rank::self.size])

    def gather(self, shard: list[T], total: int) -> list[T]:
        """Inverse of `shard`: every rank gets the full list in the original order."""
        if self.size == 1:
            return list(shard)
        import torch.distributed as dist

        parts: list[Any] = [None] * self.size
        dist.all_gather_object(parts, shard)
        out: list[T] = [None] * total  # type: ignore[list-item]
        for r, part in enumerate(parts):
            out[r::self.size] = part
        return out

    def barrier(self) -> None:
        if self.size > 1:
            import torch.distributed as dist

            dist.barrier()


@dataclass
class ModelContext:
    preset: Preset
    data: DataCatalog
    artifacts: ArtifactStore
    model_args: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    seed: int = 0
    progress: bool = True
    world: World = field(default_factory=World)


@dataclass
class TaskContext:
    preset: Preset
    data: DataCatalog
    artifacts: ArtifactStore
    seed: int = 0
    limit: int | None = None  # overrides preset.eval_limit
    dataset: str | None = None  # run-wide dataset (else the preset's, else the task's)
    device: str = "cpu"
    progress: bool = True
    world: World = field(default_factory=World)
    options: dict[str, Any] = field(default_factory=dict)
    evaluator_paths: dict[str, Path] = field(default_factory=dict)  # dataset -> official evaluator dir
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def eval_limit(self) -> int | None:
        return self.limit if self.limit is not None else self.preset.eval_limit

    def track(self, items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
        """A progress bar on stderr (silent off a terminal or when disabled)."""
        if not self.progress or not self.world.is_main:
            return items
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc, total=total, leave=False, file=sys.stderr,
                    disable=not sys.stderr.isatty())

    def evaluator(self, dataset_name: str) -> Any:
        """The text-motion evaluator for a dataset (official port or trained contrastive)."""
        key = ("evaluator", dataset_name)
        if key not in self._cache:
            from hmvlm_bench.evaluators.factory import get_evaluator

            self._cache[key] = get_evaluator(self, dataset_name)
        return self._cache[key]
