"""Plugin discovery. The core never imports a plugin by name: plugins are found through
the `hmvlm_bench.plugins` entry-point group (declared in pyproject.toml) and through
`--include-path DIR` folders whose Python files define `register(registries)`."""
from __future__ import annotations

import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterable

from hmvlm_bench.errors import UserError
from hmvlm_bench.registry import Registries

ENTRY_POINT_GROUP = "hmvlm_bench.plugins"


def load_registries(include_paths: Iterable[Path] = ()) -> Registries:
    regs = Registries()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        ep.load()(regs)
    for path in include_paths:
        _load_include_path(Path(path), regs)
    return regs


def _load_include_path(path: Path, regs: Registries) -> None:
    if not path.exists():
        raise UserError(f"--include-path {path} does not exist")
    files = [path] if path.is_file() else sorted(path.glob("*.py"))
    for f in files:
        name = f"hmvlm_bench_include_{abs(hash(f.resolve()))}_{f.stem}"
        spec = importlib.util.spec_from_file_location(name, f)
        if spec is None or spec.loader is None:  # pragma: no cover
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        register = getattr(module, "register", None)
        if callable(register):
            register(regs)
