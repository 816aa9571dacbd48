"""validate_dataset names every problem; the data CLI functions return exit codes."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hmvlm_bench.cli.data import synth_cmd, validate_cmd
from hmvlm_bench.motion.validate import validate_dataset
from tests_motion_helpers import make_dataset  # pytest puts this test directory on sys.path


def test_sound_dataset_has_no_problems(tmp_path: Path) -> None:
    assert validate_dataset(make_dataset(tmp_path / "h")) == []


def test_every_problem_is_named(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "h")
    np.save(root / "Std.npy", np.zeros(263, np.float32))
    (root / "Mean.npy").unlink()
    np.save(root / "new_joint_vecs" / "000003.npy", np.zeros((0, 263), np.float32))
    bad = np.ones((50, 263), np.float32)
    bad[4, 4] = np.inf
    np.save(root / "new_joint_vecs" / "000004.npy", bad)
    np.save(root / "new_joint_vecs" / "000001.npy", np.ones((50, 251), np.float32))
    (root / "texts" / "M000001.txt").write_bytes(b"caf\xe9#x#0#0\n")
    (root / "texts" / "000002.txt").unlink()
    (root / "val.txt").write_text("123456\n")
    problems = validate_dataset(root)
    expected = ["Mean.npy: missing", "Std.npy: 263 zero", "000003.npy: zero-length", "000004.npy: contains NaN",
                "000001.npy: shape (50, 251)", "M000001.txt: not UTF-8", "id 000002 has no caption file",
                "val.txt:1: id 123456 has no feature file"]
    for e in expected:
        assert sum(e in p for p in problems) == 1, (e, problems)
    assert len(problems) == len(expected)
    assert validate_dataset(root, kind="kit")[0].endswith("missing")  # still one line per problem


def test_cli_functions(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert synth_cmd(tmp_path / "s", size=12, seed=1) == 0
    assert validate_cmd([f"synthetic={tmp_path / 's'}"]) == 0
    assert validate_cmd([f"humanml3d={tmp_path / 'missing'}"]) == 2
    assert "directory not found" in capsys.readouterr().err
