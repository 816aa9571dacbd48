"""Imports go one way (README, "Layout and contracts"): `tasks`, `baselines` ->
`reference_model` -> `hmvlm_bench`. Every import counts here, lazy ones inside functions
included, and so do "module:attr" / module-name strings (lazy registry targets,
`TOKENIZER_MODULES`): a name imported later is still a dependency."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> packages it must never import
FORBIDDEN = {
    "hmvlm_bench": ("tasks", "baselines", "reference_model"),
    "reference_model": ("tasks", "baselines"),
}


def _imports(path: Path) -> set[str]:
    """Every module a file imports or names as a lazy target."""
    out: set[str] = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.Import):
            out |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            out.add(n.module)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isascii():
            # "pkg.module:attr" or "pkg.module" written as code to import later
            head = n.value.partition(":")[0]
            if ("." in head or ":" in n.value) and " " not in head and "/" not in head and head.replace(".", "").replace("_", "").isalnum():
                out.add(head)
    return out


def offences(package: str) -> list[str]:
    banned = FORBIDDEN[package]
    return [f"{p.relative_to(ROOT)} imports {m}"
            for p in sorted((ROOT / package).rglob("*.py"))
            for m in sorted(_imports(p)) if m.split(".")[0] in banned]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_one_way(package: str) -> None:
    assert offences(package) == []


def test_the_check_sees_lazy_imports_and_lazy_targets(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from baselines.x import Y\n\nMODS = ('baselines.whole_body_vq',)\n"
                 "T = 'tasks.t2m:T2M'\n")
    assert {"baselines.x", "baselines.whole_body_vq", "tasks.t2m"} <= _imports(f)


def test_whole_body_tokenizer_loads_without_baselines() -> None:
    """The whole-body VQ lives in reference_model/tokenizer/ and is found by variant."""
    from reference_model.tokenizer.base import tokenizer_class
    from reference_model.tokenizer.whole_body import WholeBodyVQ

    assert tokenizer_class("whole-body") is WholeBodyVQ
    assert tokenizer_class("whole-body-x5") is WholeBodyVQ
