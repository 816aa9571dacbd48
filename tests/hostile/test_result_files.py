"""Damaged result trees: `report`, `compare` and `validate` name the bad file in one line
and write nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.conftest import assert_one_error, invoke, snapshot
from tests.reporting.reporting_fixtures import build_tree

T2M = Path("hmvlm") / "t2m.json"
SAMPLES = Path("ground-truth") / "reconstruction.samples.jsonl"


def _edit_json(key: str, value):
    def edit(p: Path) -> None:
        raw = json.loads(p.read_text())
        if value is _DELETE:
            raw.pop(key)
        else:
            raw[key] = value
        p.write_text(json.dumps(raw))
    return edit


_DELETE = object()

# case -> (file to damage, how, needles)
DAMAGE = {
    "schema_version '1'": (T2M, _edit_json("schema_version", "1"), ["schema_version", "'1'"]),
    "schema_version null": (T2M, _edit_json("schema_version", None), ["schema_version", "None"]),
    "schema_version true": (T2M, _edit_json("schema_version", True), ["schema_version"]),
    "schema_version 0": (T2M, _edit_json("schema_version", 0), ["schema_version"]),
    "schema_version 99": (T2M, _edit_json("schema_version", 99), ["schema_version 99", "upgrade"]),
    "no schema_version": (T2M, _edit_json("schema_version", _DELETE), ["no schema_version"]),
    "metric value text": (T2M, lambda p: _edit_json("metrics", {"fid": {"value": "abc"}})(p),
                          ["metrics.fid.value"]),
    "NaN replication": (T2M, lambda p: p.write_text(p.read_text().replace('"values": [', '"values": [NaN, ', 1)),
                        ["values", "finite"]),
    "truncated result": (T2M, lambda p: p.write_text(p.read_text()[:200]), ["unreadable result file"]),
    "empty result": (T2M, lambda p: p.write_text(""), ["unreadable result file"]),
    "latin-1 result": (T2M, lambda p: p.write_bytes(b'{"task": "\xe9"}'), ["unreadable result file"]),
    "result is a list": (T2M, lambda p: p.write_text("[]"), ["no schema_version"]),
    "truncated samples": (SAMPLES, lambda p: p.write_text(p.read_text()[:-15]), ["line 8", "not valid JSON"]),
    "samples not objects": (SAMPLES, lambda p: p.write_text("[1]\n"), ["line 1", "not a JSON object"]),
    "latin-1 samples": (SAMPLES, lambda p: p.write_bytes(b'{"sample_id": "\xe9"}\n'), ["unreadable samples file"]),
}

COMMANDS = {
    "report md": lambda r, o: ["report", "--results", str(r), "--format", "md", "--out", str(o)],
    "report html": lambda r, o: ["report", "--results", str(r), "--format", "html", "--out", str(o)],
    "compare": lambda r, o: ["compare", "--results", str(r), "--baseline", "ground-truth", "--out", str(o / "c.md")],
}


def _applies(case: str, cmd: str) -> bool:
    # samples are read where media (html) or paired tests (compare) need them
    return not (DAMAGE[case][0] == SAMPLES and cmd == "report md")


CASES = [(c, k) for c in sorted(DAMAGE) for k in COMMANDS if _applies(c, k)]


@pytest.mark.parametrize("case,cmd", CASES, ids=[f"{c} / {k}" for c, k in CASES])
def test_damaged_results_are_named(tmp_path, case, cmd):
    root = build_tree(tmp_path / "runs")
    rel, damage, needles = DAMAGE[case]
    damage(root / rel)
    out = tmp_path / "reports"
    res = invoke(COMMANDS[cmd](root, out))
    assert_one_error(res, str(root / rel), *needles)
    assert not out.exists(), snapshot(out)


def test_validate_lists_every_damaged_result(tmp_path):
    root = build_tree(tmp_path / "runs")
    _edit_json("schema_version", "1")(root / T2M)
    (root / "lora" / "forgetting.json").write_text("")
    res = invoke(["validate", "--results", str(root)])
    assert res.rc == 2 and "Traceback" not in res.err
    assert str(root / T2M) in res.err and str(root / "lora" / "forgetting.json") in res.err


def test_report_on_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_one_error(invoke(["report", "--results", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]),
                     str(tmp_path / "empty"), "no result files")
    assert not (tmp_path / "o").exists()


def test_report_on_a_missing_folder(tmp_path):
    assert_one_error(invoke(["report", "--results", str(tmp_path / "nope")]), str(tmp_path / "nope"))


def test_report_out_is_a_file(tmp_path):
    root = build_tree(tmp_path / "runs")
    f = tmp_path / "f"
    f.write_text("x")
    assert_one_error(invoke(["report", "--results", str(root), "--out", str(f)]), str(f), "is a file")


def test_compare_out_is_a_folder_or_under_a_file(tmp_path):
    root = build_tree(tmp_path / "runs")
    f = tmp_path / "f"
    f.write_text("x")
    assert_one_error(invoke(["compare", "--results", str(root), "--baseline", "hmvlm", "--out", str(f / "c.md")]),
                     str(f), "is a file")
    assert_one_error(invoke(["compare", "--results", str(root), "--baseline", "hmvlm", "--out", str(tmp_path)]),
                     str(tmp_path), "is a folder")


def test_compare_unknown_baseline(tmp_path):
    root = build_tree(tmp_path / "runs")
    assert_one_error(invoke(["compare", "--results", str(root), "--baseline", "hmvml"]), "hmvml")
