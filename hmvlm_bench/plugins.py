"""Plugin discovery. The core never imports a plugin by name: plugins are found through
the `hmvlm_bench.plugins` entry-point group (declared in pyproject.toml) and through
`--include-path DIR` folders whose Python files define `register(registries)`."""
from __future__ import annotations

import ast
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


def _defines_register(f: Path) -> bool:
    """Whether a file defines a top-level `register` (read, not run: a folder's helper
    scripts are never executed just for being there)."""
    try:
        tree = ast.parse(f.read_bytes(), filename=str(f))
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        raise UserError(f"--include-path {f}: syntax error{where}: {exc.msg}") from None
    except (OSError, ValueError) as exc:  # unreadable, or NUL bytes
        raise UserError(f"--include-path {f}: cannot read it: {exc}") from None
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "register"
               for n in tree.body)


def _load_include_path(path: Path, regs: Registries) -> None:
    """Plugins are trusted code (README): every file that defines `register` is run."""
    if not path.exists():
        raise UserError(f"--include-path {path} does not exist")
    files = [path] if path.is_file() else sorted(path.glob("*.py"))
    for f in files:
        if not _defines_register(f):
            if path.is_file():
                raise UserError(f"--include-path {f} defines no register(registries) function")
            continue
        name = f"hmvlm_bench_include_{abs(hash(f.resolve()))}_{f.stem}"
        spec = importlib.util.spec_from_file_location(name, f)
        if spec is None or spec.loader is None:  # pragma: no cover
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
            module.register(regs)
        except UserError:
            raise
        except Exception as exc:  # the plugin's own failure, named in one line
            sys.modules.pop(name, None)
            raise UserError(f"--include-path {f}: {type(exc).__name__}: {exc}") from exc
