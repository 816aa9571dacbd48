"""Makes `lm_eval --model hmvlm` work from lm-eval's stock CLI (installed by a .pth file).

lm-eval 0.4.13 discovers models only through its own `MODEL_MAPPING` and the
`@register_model` decorator of modules somebody imports; it reads no entry points. So
the package installs `hmvlm_bench_lm_eval.pth` into site-packages; Python runs it at
start-up, and it calls `install()`, which adds an import hook that waits for
`lm_eval.api.registry`. When lm-eval imports that module, the hook registers `hmvlm` as a
lazy placeholder ("hmvlm_bench.lm_eval_adapter:HmvlmLM"): nothing of ours (torch,
transformers) is imported until a user asks for `--model hmvlm`. Processes that never
import lm-eval pay for one tiny module and one `sys.meta_path` entry.

This module must stay import-light and must never raise at start-up.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any, Sequence

MODEL_NAME = "hmvlm"
TARGET = "hmvlm_bench.lm_eval_adapter:HmvlmLM"
WATCHED = "lm_eval.api.registry"


def register(registry_module: Any) -> None:
    """Register our lazy placeholder in lm-eval's model registry (idempotent)."""
    # lm-eval imports its own MODEL_MAPPING only while the registry is empty; fill it first,
    # or registering ours would hide `hf`, `vllm`, ... from `get_model`.
    import lm_eval.models  # noqa: F401

    models = registry_module.model_registry
    if MODEL_NAME not in models:
        models.register(MODEL_NAME, target=TARGET)


class _Loader(importlib.abc.Loader):
    """Runs the real loader, then registers our model."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        try:
            register(module)
        except Exception as err:  # a broken hook must not break lm-eval itself
            print(f"hmvlm-bench: could not register lm-eval model '{MODEL_NAME}': {err}", file=sys.stderr)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != WATCHED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


def install() -> None:
    """Called from the .pth file. Registers at once if lm-eval is already imported."""
    try:
        if any(isinstance(f, _Finder) for f in sys.meta_path):
            return
        if WATCHED in sys.modules:
            register(sys.modules[WATCHED])
            return
        sys.meta_path.insert(0, _Finder())
    except Exception:  # never break interpreter start-up
        pass
