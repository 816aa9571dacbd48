"""Malformed BVH under `data import-bvh`: one line naming the file, exit 2, and no output
folder (the import parses every file before writing anything)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.hostile.conftest import assert_one_error, invoke
from tests.motion.test_motion_bvh import write_bvh


def _first(pattern: str, repl: str):
    return lambda t: re.sub(pattern, repl, t, count=1)


MUTATIONS = {
    "non-integer CHANNELS": (_first(r"CHANNELS 6", "CHANNELS six"), "is not an integer"),
    "CHANNELS count too large": (_first(r"CHANNELS 3 ", "CHANNELS 5 "), "channel names"),
    "CHANNELS before ROOT": (_first(r"HIERARCHY\n", "HIERARCHY\nCHANNELS 3 Xposition Yposition Zposition\n"),
                             "outside a joint block"),
    "OFFSET before ROOT": (_first(r"HIERARCHY\n", "HIERARCHY\nOFFSET 0 0 0\n"), "outside a joint block"),
    "End Site first": (_first(r"HIERARCHY\n", "HIERARCHY\nEnd Site\n{\nOFFSET 0 1 0\n}\n"), "outside a joint block"),
    "JOINT before ROOT": (_first(r"ROOT Hips", "JOINT Hips"), "ROOT must come first"),
    "HIERARCHY ROOT then nothing": (lambda t: "HIERARCHY ROOT\n", "ROOT needs a name"),
    "OFFSET with two numbers": (_first(r"OFFSET 0 5 0", "OFFSET 0 5"), "OFFSET"),
    "OFFSET nan": (_first(r"OFFSET 0 5 0", "OFFSET 0 nan 0"), "three finite numbers"),
    "unbalanced brace": (_first(r"MOTION", "}\nMOTION"), "unbalanced"),
    "unclosed block": (_first(r"\n\}\nMOTION", "\nMOTION"), "unclosed"),
    "no MOTION": (lambda t: t.split("MOTION")[0], "MOTION"),
    "frame count off": (_first(r"Frames: 61", "Frames: 62"), "motion values"),
    "frame time zero": (_first(r"Frame Time: [0-9.]+", "Frame Time: 0"), "motion values"),
    "NaN motion value": (lambda t: t.rstrip("\n").rsplit(" ", 1)[0] + " nan\n", "NaN or inf"),
    "text in motion": (lambda t: t.rstrip("\n").rsplit(" ", 1)[0] + " abc\n", "Frames: N"),
    "empty file": (lambda t: "", "HIERARCHY"),
    "rig without arms": (lambda t: t.replace("LeftArm", "LeftWing").replace("LeftForeArm", "LeftTip"),
                         "lacks joints"),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_malformed_bvh_is_named(tmp_path, case):
    good = tmp_path / "good.bvh"
    write_bvh(good)
    mutate, why = MUTATIONS[case]
    bad = tmp_path / "bad.bvh"
    bad.write_text(mutate(good.read_text()))
    out = tmp_path / "out"
    assert_one_error(invoke(["data", "import-bvh", str(bad), "--out", str(out)]), str(bad), why)
    assert not out.exists()


def test_hierarchy_root_on_one_line_is_fine(tmp_path):
    f = tmp_path / "one.bvh"
    write_bvh(f)
    f.write_text(f.read_text().replace("HIERARCHY\n", "HIERARCHY ", 1))
    res = invoke(["data", "import-bvh", str(f), "--out", str(tmp_path / "out")])
    assert res.rc == 0, res.err


def test_binary_file(tmp_path):
    f = tmp_path / "x.bvh"
    f.write_bytes(bytes(range(256)) * 4)
    assert_one_error(invoke(["data", "import-bvh", str(f), "--out", str(tmp_path / "out")]), str(f))
    assert not (tmp_path / "out").exists()


def test_one_bad_file_in_a_folder_is_skipped_and_named(tmp_path):
    # issue 19: the good files are imported, the bad one is named, the exit code is 1
    src = tmp_path / "mocap"
    src.mkdir()
    write_bvh(src / "a_good.bvh")
    (src / "b_bad.bvh").write_text("HIERARCHY\nCHANNELS 3 X Y Z\n")
    out = tmp_path / "out"
    res = invoke(["data", "import-bvh", str(src), "--out", str(out)])
    assert res.rc == 1 and "Traceback" not in res.err, res.err
    assert str(src / "b_bad.bvh") in res.err and "1 file(s) failed" in res.out
    assert sorted(p.name for p in (out / "new_joint_vecs").iterdir()) == ["a_good_000.npy"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp litter


def test_every_file_bad_in_a_folder_leaves_nothing(tmp_path):
    src = tmp_path / "mocap"
    src.mkdir()
    (src / "b_bad.bvh").write_text("HIERARCHY\nCHANNELS 3 X Y Z\n")
    out = tmp_path / "out"
    assert_one_error(invoke(["data", "import-bvh", str(src), "--out", str(out)]), str(src / "b_bad.bvh"))
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_out_is_a_file(tmp_path):
    f = tmp_path / "good.bvh"
    write_bvh(f)
    target = tmp_path / "target"
    target.write_text("x")
    assert_one_error(invoke(["data", "import-bvh", str(f), "--out", str(target)]), str(target), "is a file")


def test_folder_without_bvh(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_one_error(invoke(["data", "import-bvh", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]),
                     "no .bvh files")
    assert not (tmp_path / "o").exists()
