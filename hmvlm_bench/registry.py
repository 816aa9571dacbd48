"""A generic lazy registry (after lm-eval's `lm_eval/api/registry.py` idea).

Entries are either objects or ``"module:attr"`` strings imported on first use, so
start-up imports nothing heavy. Plugins register into a `Registries` instance; the core
never imports a plugin by name (see `hmvlm_bench.plugins`).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Generic, Iterator, TypeVar

from hmvlm_bench.errors import UserError, did_you_mean

T = TypeVar("T")


@dataclass
class Registry(Generic[T]):
    """Name -> object (or lazy "module:attr" placeholder), with aliases and metadata."""

    kind: str
    base: type | None = None
    _entries: dict[str, Any] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)
    _meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    def register(
        self, name: str, target: T | str, *, aliases: tuple[str, ...] = (),
        overwrite: bool = False, **meta: Any,
    ) -> None:
        if not overwrite and (name in self._entries or name in self._aliases):
            # lm-eval silently overrides duplicate task names; we refuse instead.
            raise ValueError(f"{self.kind} '{name}' is already registered")
        if isinstance(target, str) and ":" not in target:
            raise ValueError(f"lazy {self.kind} target must be 'module:attr', got {target!r}")
        self._entries[name] = target
        self._meta[name] = dict(meta)
        for a in aliases:
            if a in self._entries or (a in self._aliases and not overwrite):
                raise ValueError(f"{self.kind} alias '{a}' clashes with an existing name")
            self._aliases[a] = name

    def register_group(self, name: str, members: list[str] | tuple[str, ...], **meta: Any) -> None:
        """A name standing for several entries (e.g. a task and its variants)."""
        if name in self._entries or name in self._aliases:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._entries[name] = tuple(members)
        self._meta[name] = {**meta, "group": list(members)}

    def is_group(self, name: str) -> bool:
        return bool(self._meta.get(self.canonical(name), {}).get("group"))

    def canonical(self, name: str) -> str:
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise UserError(
            f"unknown {self.kind} '{name}'" + did_you_mean(name, self.names(with_aliases=True))
            + f" (known: {', '.join(self.names()) or 'none'})"
        )

    def get(self, name: str) -> T:
        key = self.canonical(name)
        target = self._entries[key]
        if isinstance(target, tuple):
            raise UserError(f"{self.kind} '{key}' is a group of {', '.join(target)}")
        if isinstance(target, str):
            module, _, attr = target.partition(":")
            try:
                obj = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise UserError(f"cannot load {self.kind} '{key}' from {target}: {exc}") from exc
            if self.base is not None and isinstance(obj, type) and not issubclass(obj, self.base):
                raise TypeError(f"{self.kind} '{key}' ({target}) is not a {self.base.__name__}")
            self._entries[key] = obj
            target = obj
        return target

    def meta(self, name: str) -> dict[str, Any]:
        return dict(self._meta[self.canonical(name)])

    def names(self, with_aliases: bool = False) -> list[str]:
        out = sorted(self._entries)
        return out + sorted(self._aliases) if with_aliases else out

    def registered(self) -> list[str]:
        """Names (no aliases) in registration order: the order a plugin lists its entries
        in, e.g. the task columns of a report."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


@dataclass
class Registries:
    """The registries one harness instance uses (no module-level global state)."""

    models: Registry[Any] = field(default_factory=lambda: Registry("model"))
    tasks: Registry[Any] = field(default_factory=lambda: Registry("task"))
    # no metrics registry: metrics are pure functions (hmvlm_bench.metrics) that a task
    # calls, and a task declares what it reports in its `MetricSpec`s
    # `hmvlm-bench train NAME` runs trainers["NAME"]; the core's own (the evaluator) is
    # registered here, plugins add theirs (reference_model: model, tokenizer)
    trainers: Registry[Any] = field(default_factory=lambda: _core_trainers())
    benchmarks: Registry[Any] = field(default_factory=lambda: Registry("benchmark"))


def _core_trainers() -> Registry[Any]:
    reg: Registry[Any] = Registry("trainer")
    reg.register("evaluator", "hmvlm_bench.evaluators.factory:train_evaluator_cmd",
                 description="contrastive text-motion evaluator (datasets without an official one)")
    return reg
