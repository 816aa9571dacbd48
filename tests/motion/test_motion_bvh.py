"""BVH import on a file the test writes: parse, FK, retarget, axes, resampling, layout."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion import skeleton as S
from hmvlm_bench.motion.bvh import bvh_positions, bvh_to_joints, import_bvh, parse_bvh, read_bvh, retarget, to_y_up_metres
from hmvlm_bench.motion.dataset import load_dataset
from hmvlm_bench.motion.features import joints_to_features
from hmvlm_bench.motion.kinematics import euler_to_matrix, fk
from hmvlm_bench.motion.validate import validate_dataset

# CMU/bvhtools-style names for the 22 SMPL joints (three spine joints: mapped directly)
RIG = ("Hips", "LeftUpLeg", "RightUpLeg", "Spine", "LeftLeg", "RightLeg", "Spine1", "LeftFoot", "RightFoot",
       "Spine2", "LeftToeBase", "RightToeBase", "Neck", "LeftShoulder", "RightShoulder", "Head", "LeftArm",
       "RightArm", "LeftForeArm", "RightForeArm", "LeftHand", "RightHand")


# the same skeleton as Mixamo and Blender name it (Blender: side suffixes, 3 spine bones)
MIXAMO = tuple(f"mixamorig:{n}" for n in RIG)
BLENDER = ("hips", "thigh.L", "thigh.R", "spine", "shin.L", "shin.R", "spine.001", "foot.L", "foot.R",
           "chest", "toe.L", "toe.R", "neck", "shoulder.L", "shoulder.R", "head", "upper_arm.L",
           "upper_arm.R", "forearm.L", "forearm.R", "hand.L", "hand.R")
UNKNOWN = tuple(f"bone{j:02d}" for j in range(22))


def write_bvh(path: Path, n: int = 61, fps: float = 30.0, rig: tuple[str, ...] = RIG) -> tuple[np.ndarray, np.ndarray]:
    """A 22-joint BVH in centimetres (ZXY channels); returns its Euler angles and root path."""
    t = np.arange(n) / fps
    ang = np.zeros((n, 22, 3))  # degrees, in channel order Z, X, Y
    ang[:, 1, 1] = 30 * np.sin(2 * np.pi * t)
    ang[:, 2, 1] = -30 * np.sin(2 * np.pi * t)
    ang[:, 4, 1] = 20 + 20 * np.cos(2 * np.pi * t)
    ang[:, 17, 0] = -60 * np.ones(n)
    ang[:, 19, 1] = -45
    ang[:, 0, 2] = 40 * t  # turning
    root = np.stack([10 * t, 92 + 2 * np.sin(4 * np.pi * t), 50 * t], -1)
    off = S.canonical_offsets() * 100
    children: dict[int, list[int]] = {j: [] for j in range(22)}
    for j in range(1, 22):
        children[S.PARENTS[j]].append(j)
    lines = ["HIERARCHY"]
    order: list[int] = []

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if j == 0 else 'JOINT'} {rig[j]}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {off[j, 0]:.6f} {off[j, 1]:.6f} {off[j, 2]:.6f}")
        chans = "6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if j == 0 else "3 Zrotation Xrotation Yrotation"
        lines.append(f"{pad}  CHANNELS {chans}")
        order.append(j)
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            lines.extend([f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET 0 5 0", pad + "  }"])
        lines.append(pad + "}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {n}", f"Frame Time: {1 / fps:.8f}"]
    for f in range(n):
        vals = list(root[f])
        for j in order:
            vals += list(ang[f, j])
        lines.append(" ".join(f"{v:.6f}" for v in vals))
    path.write_text("\n".join(lines) + "\n")
    return ang, root


def test_parse_fk_and_retarget(tmp_path: Path) -> None:
    ang, root = write_bvh(tmp_path / "a.bvh")
    bvh = read_bvh(tmp_path / "a.bvh")
    assert len(bvh.joints) == 22 + 5 and abs(bvh.fps - 30.0) < 1e-4  # 5 End Sites (toes, head, hands)
    expected = fk(euler_to_matrix(ang, "ZXY"), root / 100)  # metres offsets, cm root path
    got = to_y_up_metres(retarget(bvh, bvh_positions(bvh)), scale=0.01)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # 20 fps resampling: 2 s -> 41 frames; frame 3 (0.15 s) is halfway between source frames 4 and 5
    res = bvh_to_joints(tmp_path / "a.bvh", scale=0.01)
    assert res.shape == (41, 22, 3)
    np.testing.assert_allclose(res[3], 0.5 * (expected[4] + expected[5]), atol=1e-6)


def test_z_up_is_rotated_not_mirrored(tmp_path: Path) -> None:
    write_bvh(tmp_path / "a.bvh")
    bvh = read_bvh(tmp_path / "a.bvh")
    y_up = retarget(bvh, bvh_positions(bvh))
    z_up = np.stack([y_up[..., 0], -y_up[..., 2], y_up[..., 1]], axis=-1)  # Y-up -> Z-up rotation
    a = joints_to_features(to_y_up_metres(y_up))
    b = joints_to_features(to_y_up_metres(z_up))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_import_layout(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    write_bvh(tmp_path / "src" / "walk.bvh", n=301)
    ids = import_bvh(tmp_path / "src", tmp_path / "out").ids
    # 10 s at 20 fps = 201 frames -> one 196-frame clip; the 4-frame rest is dropped
    assert ids == ["walk_000"]
    ds = load_dataset(f"humanml3d={tmp_path / 'out'}", "test", require_captions=False)
    assert len(ds) == 1 and ds[0].features.shape == (196, 263) and ds[0].captions == []
    assert validate_dataset(tmp_path / "out", require_captions=False) == []


def test_bad_bvh() -> None:
    with pytest.raises(UserError, match="HIERARCHY"):
        parse_bvh("MOTION")
    with pytest.raises(UserError, match="motion values"):
        parse_bvh("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xposition Yposition Zposition } "
                  "MOTION Frames: 2 Frame Time: 0.1 1 2 3")
    with pytest.raises(UserError, match="unknown rig"):
        text = ("HIERARCHY ROOT Hips { OFFSET 0 0 0 CHANNELS 3 Xposition Yposition Zposition } "
                "MOTION Frames: 1 Frame Time: 0.1 1 2 3")
        bvh = parse_bvh(text)
        retarget(bvh, bvh_positions(bvh))


@pytest.mark.parametrize("rig", [MIXAMO, BLENDER], ids=["mixamo", "blender"])
def test_other_rig_namings_retarget_like_cmu(tmp_path: Path, rig: tuple[str, ...]) -> None:
    write_bvh(tmp_path / "cmu.bvh")
    write_bvh(tmp_path / "other.bvh", rig=rig)
    np.testing.assert_allclose(bvh_to_joints(tmp_path / "other.bvh", scale=0.01),
                               bvh_to_joints(tmp_path / "cmu.bvh", scale=0.01), atol=1e-9)


def test_folder_with_a_bad_file_imports_the_good_one_and_names_the_bad(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Acceptance (issue 19): one good and one unknown-rig file."""
    from hmvlm_bench.cli.data import dataset_problems, import_bvh_cmd

    src = tmp_path / "src"
    src.mkdir()
    write_bvh(src / "good.bvh", n=121)
    write_bvh(src / "weird.bvh", n=121, rig=UNKNOWN)
    out = tmp_path / "data" / "bvh"
    assert import_bvh_cmd(src, out) == 1  # non-zero: a file failed
    cap = capsys.readouterr()
    assert "weird.bvh" in cap.err and "unknown rig" in cap.err
    assert "imported 1 clip(s) from 1 file(s)" in cap.out and "1 file(s) failed" in cap.out
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["bvh"]  # no temp folder left
    assert sorted(p.name for p in (out / "new_joint_vecs").iterdir()) == ["good_000.npy"]
    meta = json.loads((out / "bvh_import.json").read_text())
    assert 0.005 < meta["sources"]["good.bvh"]["scale"] < 0.02  # a centimetre rig, guessed from its height
    assert meta["sources"]["good.bvh"]["scale_from"].startswith("guessed") and "weird.bvh" in meta["failed"]
    # caption-less by construction: validates for the tasks that need no captions
    assert dataset_problems([f"bvh={out}"]) == []


def test_all_files_bad_leaves_nothing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_bvh(src / "weird.bvh", rig=UNKNOWN)
    (src / "broken.bvh").write_text("HIERARCHY\nROOT Hips {\n")
    with pytest.raises(UserError, match="broken.bvh.*|weird.bvh"):
        import_bvh(src, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_given_scale_is_recorded_and_a_full_out_folder_refused(tmp_path: Path) -> None:
    write_bvh(tmp_path / "a.bvh")
    import_bvh(tmp_path / "a.bvh", tmp_path / "out", scale=0.01)
    meta = json.loads((tmp_path / "out" / "bvh_import.json").read_text())
    assert meta["scale"] == 0.01 and meta["sources"]["a.bvh"]["scale"] == 0.01
    with pytest.raises(UserError, match="not an empty folder"):
        import_bvh(tmp_path / "a.bvh", tmp_path / "out")
