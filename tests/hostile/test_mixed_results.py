"""`report` and `compare` never rank or test results measured differently (another preset,
task version, dataset, subset, evaluator or protocol) in one column: one line says which
rows differ in what, and nothing is written."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmvlm_bench.reporting.comparable import ASPECTS, incomparable
from tests.hostile.conftest import assert_one_error, invoke, snapshot
from tests.reporting.reporting_fixtures import build_tree, make_result


def _set(path: list[str], value):
    def edit(raw: dict) -> None:
        d = raw
        for k in path[:-1]:
            d = d.setdefault(k, {})
        d[path[-1]] = value
    return edit


LORA_T2M = Path("lora") / "t2m.json"
HMVLM_REC = Path("hmvlm") / "reconstruction.json"

# case -> (file, edit, needles in the one error line)
MIXED = {
    "preset": (LORA_T2M, _set(["preset"], "mini"), ["different presets", "mini (lora)", "tiny ("]),
    "task version": (LORA_T2M, _set(["task_version"], 2), ["different task versions", "v2 (lora)"]),
    "dataset name": (LORA_T2M, _set(["dataset", "name"], "humanml3d"), ["different datasets", "humanml3d"]),
    "dataset hash": (LORA_T2M, _set(["dataset", "hash"], "0123456789abcdef"),
                     ["different datasets", "synthetic (0123456789ab) (lora)"]),
    "subset": (LORA_T2M, _set(["config", "run", "limit"], 16), ["different evaluation subsets", "16 (lora)"]),
    "evaluator weights": (LORA_T2M, _set(["evaluator", "fingerprint"], "ffff0000ffff0000"),
                          ["different evaluators", "ffff0000ffff"]),
    "evaluator missing": (LORA_T2M, _set(["evaluator"], None), ["different evaluators", "none (lora)"]),
    # samples share ids with ground-truth's: a paired bootstrap over them would look rigorous
    "paired samples of other data": (HMVLM_REC, _set(["dataset", "hash"], "0123456789abcdef"),
                                     ["task 'reconstruction'", "different datasets"]),
}

COMMANDS = {
    "report": lambda r, o: ["report", "--results", str(r), "--format", "md,csv", "--out", str(o)],
    "compare": lambda r, o: ["compare", "--results", str(r), "--baseline", "ground-truth",
                             "--out", str(o / "c.md")],
}


def _edit(root: Path, rel: Path, edit) -> None:
    raw = json.loads((root / rel).read_text())
    edit(raw)
    (root / rel).write_text(json.dumps(raw))


@pytest.mark.parametrize("case,cmd", [(c, k) for c in MIXED for k in COMMANDS],
                         ids=[f"{c} / {k}" for c in MIXED for k in COMMANDS])
def test_mixed_results_are_refused(tmp_path, case, cmd):
    root = build_tree(tmp_path / "runs")
    rel, edit, needles = MIXED[case]
    _edit(root, rel, edit)
    out = tmp_path / "reports"
    line = assert_one_error(invoke(COMMANDS[cmd](root, out)), "cannot", *needles)
    assert f"task '{rel.stem}'" in line
    assert not out.exists(), snapshot(out)


def test_two_protocols_get_two_columns_but_no_test(tmp_path):
    """A board shows each protocol in its own column; compare refuses to test across them."""
    root = build_tree(tmp_path / "runs")
    _edit(root, LORA_T2M, _set(["extra", "eval_protocol"], "guo"))
    out = tmp_path / "reports"
    res = invoke(COMMANDS["report"](root, out))
    assert res.rc == 0, res.err
    board = (out / "leaderboard.md").read_text()
    assert "[guo protocol]" in board and "[bench protocol]" in board
    assert_one_error(invoke(COMMANDS["compare"](root, tmp_path / "c")), "different protocols",
                     "guo (lora)", "bench (")
    assert not (tmp_path / "c").exists()


def test_alike_results_still_report_and_compare(tmp_path):
    root = build_tree(tmp_path / "runs")
    for cmd in COMMANDS.values():
        res = invoke(cmd(root, tmp_path / "out"))
        assert res.rc == 0, res.err


# ------------------------------------------------------------------------- the rule itself
_VALUES = {  # two values per aspect: index 0 is the common one
    "presets": [_set(["preset"], "tiny"), _set(["preset"], "mini")],
    "task versions": [_set(["task_version"], 1), _set(["task_version"], 3)],
    "datasets": [_set(["dataset", "hash"], "aaaa"), _set(["dataset", "hash"], "bbbb")],
    "evaluation subsets (--limit)": [_set(["config", "run", "limit"], 64), _set(["config", "run", "limit"], 32)],
    "evaluators": [_set(["evaluator", "fingerprint"], "e1"), _set(["evaluator", "fingerprint"], "e2")],
    "protocols": [_set(["extra", "eval_protocol"], "bench"), _set(["extra", "eval_protocol"], "guo")],
}
assert list(_VALUES) == [a for a, _ in ASPECTS]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=len(_VALUES), max_size=len(_VALUES)),
                min_size=1, max_size=4))
def test_incomparable_names_the_first_aspect_that_differs(choices):
    """Rows alike in every aspect pass; otherwise the reason is the first differing aspect
    (in ASPECTS order) and names every model under its value."""
    from hmvlm_bench.results import ResultFile

    rows = []
    for i, picks in enumerate(choices):
        raw = make_result(f"m{i}", "t2m", {"x": 1.0}, main="x").model_dump(mode="json")
        for (aspect, vals), pick in zip(_VALUES.items(), picks):
            vals[int(pick)](raw)
        rows.append(ResultFile.model_validate(raw))
    differing = [a for j, a in enumerate(_VALUES) if len({p[j] for p in choices}) > 1]
    why = incomparable(rows)
    if not differing:
        assert why is None
    else:
        assert why is not None and why.startswith(f"different {differing[0]}:")
        assert all(f"m{i}" in why for i in range(len(rows)))


def test_a_run_into_a_folder_of_other_presets_keeps_its_results(tmp_path):
    """The run's own results are written; only its leaderboard is refused, with one line."""
    from tests.hostile.test_locks import RUN

    out = tmp_path / "out"
    assert invoke([*RUN, "--tasks", "count_a", "-o", str(out)]).rc == 0
    (out / "other-model").mkdir()
    raw = json.loads((out / "count-model" / "count_a.json").read_text())
    raw.update(model="other-model", preset="mini")
    (out / "other-model" / "count_a.json").write_text(json.dumps(raw))
    (out / "leaderboard.md").unlink()
    res = invoke([*RUN, "--tasks", "count_a", "-o", str(out)])
    assert res.rc == 0 and "Traceback" not in res.err, res.err
    assert "leaderboard not written: cannot rank results in one column on task 'count_a': different presets" \
        in " ".join(res.err.split())
    assert not (out / "leaderboard.md").exists()
