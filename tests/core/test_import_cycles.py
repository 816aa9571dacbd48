"""No import cycle among the core's modules (module-level imports, `if TYPE_CHECKING:`
blocks included; imports inside functions are lazy by design and not counted).
`stable_hash` lives in the leaf `hmvlm_bench.hashing` for this reason."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _graph() -> dict[str, set[str]]:
    def name(p: Path) -> str:
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    mods = {name(p): p for p in (ROOT / "hmvlm_bench").rglob("*.py")}

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in mods:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    graph: dict[str, set[str]] = {}
    for mod, path in mods.items():
        deps: set[str] = set()
        for top in ast.parse(path.read_text(encoding="utf-8")).body:
            nodes = list(ast.walk(top)) if isinstance(top, (ast.If, ast.Try)) else [top]
            for n in nodes:
                if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("hmvlm_bench"):
                    deps |= {resolve(f"{n.module}.{a.name}") or resolve(n.module) for a in n.names} - {None}
                elif isinstance(n, ast.Import):
                    deps |= {resolve(a.name) for a in n.names if a.name.startswith("hmvlm_bench")} - {None}
        graph[mod] = deps - {mod}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        path.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return path[path.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = 2
        path.pop()
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_no_import_cycle_in_the_core() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_stable_hash_is_a_leaf_and_unchanged() -> None:
    from hmvlm_bench.contracts import stable_hash as from_contracts
    from hmvlm_bench.hashing import stable_hash

    assert from_contracts is stable_hash
    assert _graph()["hmvlm_bench.hashing"] == set()
    # the canonical dump the shipped artifact keys were made with (sorted keys, compact)
    assert stable_hash({"b": [1, 2.5, None], "a": "x"}) == "ce74053d7a9997b7"
