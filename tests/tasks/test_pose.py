"""pose_from_image and the Human3.6M/3DPW evaluation-file loader (ChatPose protocol)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from tasks import pose_formats as PF
from tasks import pose_from_image as PI
from tasks.common import ModelOutputError
from tests.tasks.conftest import FakeModel, make_ctx, view


@pytest.fixture
def no_render(monkeypatch):
    """A stand-in renderer (tests of scoring do not need pixels)."""
    monkeypatch.setattr(PI, "render_image", lambda joints, seed: (np.full((8, 8, 3), seed % 255, np.uint8), 0.3))


def test_oracle_is_exact_and_random_is_not(ctx, no_render):
    task = PI.PoseFromImageTask()
    res = task.evaluate(view(FakeModel(oracle=True)), ctx)
    assert res.metrics["mpjpe"].value == pytest.approx(0.0, abs=1e-3)
    assert res.metrics["pa_mpjpe"].value == pytest.approx(0.0, abs=1e-3)
    assert res.metrics["pck"].value == 1.0
    rng = np.random.default_rng(0)
    noisy = task.evaluate(view(FakeModel(pose=lambda r: rng.normal(scale=0.3, size=(22, 3)))), ctx)
    m = noisy.metrics["mpjpe"]
    assert 200 < m.value < 800 and m.ci is not None and m.ci > 0 and m.n == 32
    assert noisy.metrics["pa_mpjpe"].value < m.value
    json.dumps(noisy.samples)
    assert {"id", "frame", "mpjpe", "pa_mpjpe", "pck"} <= set(noisy.samples[0])


def test_translation_does_not_change_pelvis_aligned_mpjpe(ctx, no_render):
    shifted = FakeModel(pose=lambda r: r.target + np.array([1.0, 2.0, 3.0]))
    shifted.oracle = True  # sees targets, answers them shifted
    res = PI.PoseFromImageTask().evaluate(view(shifted), ctx)
    assert res.metrics["mpjpe"].value == pytest.approx(0.0, abs=1e-3)


def test_bad_pose_shape_and_nan(ctx, no_render):
    with pytest.raises(ModelOutputError, match="expected \\(22, 3\\)"):
        PI.PoseFromImageTask().evaluate(view(FakeModel(pose=lambda r: np.zeros((24, 3)))), ctx)
    with pytest.raises(ModelOutputError, match="samples failed"):
        PI.PoseFromImageTask().evaluate(view(FakeModel(pose=lambda r: np.full((22, 3), np.nan))), ctx)


def test_camera_heading_frame_puts_the_camera_on_plus_z():
    from hmvlm_bench.motion.render import Camera

    for yaw in (0.0, 0.7, np.pi / 2, -2.0):
        pos, _ = Camera(yaw=yaw, pitch=0.0, target=(0.0, 0.0, 0.0)).basis()
        towards = PI.camera_heading_frame(pos[None] / np.linalg.norm(pos), yaw)[0]
        np.testing.assert_allclose(towards, [0.0, 0.0, 1.0], atol=1e-12)


def test_real_renderer_end_to_end(synth_root, tmp_path):
    c = make_ctx(synth_root, tmp_path, limit=3)
    seen = []

    def rec(r):
        seen.append(r)
        return np.zeros((22, 3))

    PI.PoseFromImageTask().evaluate(view(FakeModel(pose=rec)), c)
    assert seen[0].image.shape == (224, 224, 3) and seen[0].image.dtype == np.uint8
    assert len({r.image.tobytes() for r in seen}) == 3
    a = PI.PoseFromImageTask().evaluate(view(FakeModel(oracle=True)), c)
    assert a.metrics["mpjpe"].value == pytest.approx(0.0, abs=1e-3)


# ------------------------------------------------------------------ evaluation files


def _write_spin_fixture(tmp: Path, n: int = 6, mm: bool = False) -> tuple[Path, np.ndarray]:
    """A SPIN/ChatPose-style file: imgname + S (N, 24, 4) + PNG images beside it."""
    import imageio.v3 as iio

    rng = np.random.default_rng(1)
    s = rng.normal(scale=0.4, size=(n, 24, 4))
    s[..., 3] = 1.0
    names = []
    (tmp / "images").mkdir(parents=True)
    for i in range(n):
        name = f"images/S9_{i:04d}.png"
        iio.imwrite(tmp / name, np.full((16, 16, 3), 10 * i, np.uint8))
        names.append(name)
    joints = s.copy()
    if mm:
        joints[..., :3] *= 1000.0
    path = tmp / "h36m_valid_protocol2.npz"
    np.savez(path, imgname=np.array(names), S=joints)
    return path, s[..., :3]


def test_loader_maps_spin24_to_lsp14(tmp_path):
    path, s = _write_spin_fixture(tmp_path)
    data = PF.load_pose_eval_file(path)
    assert data.layout == "lsp14" and data.joints.shape == (6, 14, 3)
    np.testing.assert_allclose(data.joints[:, 13], s[:, 18])  # H3.6M head for the head slot
    np.testing.assert_allclose(data.joints[:, :13], s[:, :13])
    assert data.load_image(2).shape == (16, 16, 3)
    mm_path, _ = _write_spin_fixture(tmp_path / "mm", mm=True)
    np.testing.assert_allclose(PF.load_pose_eval_file(mm_path).joints, data.joints)  # mm detected


def test_loader_layouts_and_errors(tmp_path):
    j17 = np.arange(2 * 17 * 3, dtype=float).reshape(2, 17, 3)
    np.savez(tmp_path / "a.npz", imgname=np.array(["x.png", "y.png"]), pose_3d=j17)
    d = PF.load_pose_eval_file(tmp_path / "a.npz", unit="m")
    np.testing.assert_allclose(d.joints[0, 0], j17[0, 6])  # H36M_TO_J14[0] = 6 (right ankle)
    hmr = np.zeros((1, 44, 4))
    hmr[0, 25:39, :3] = np.arange(42).reshape(14, 3)
    np.savez(tmp_path / "b.npz", imgname=np.array(["z.png"]), keypoints_3d=hmr)
    np.testing.assert_allclose(PF.load_pose_eval_file(tmp_path / "b.npz", unit="m").joints[0],
                               np.arange(42).reshape(14, 3))
    np.savez(tmp_path / "c.npz", imgname=np.array(["z.png"]), S=np.zeros((1, 9, 3)))
    with pytest.raises(UserError, match="joint layout"):
        PF.load_pose_eval_file(tmp_path / "c.npz")
    np.savez(tmp_path / "d.npz", imgname=np.array(["z.png"]))
    with pytest.raises(UserError, match="no 3D joints"):
        PF.load_pose_eval_file(tmp_path / "d.npz")
    with pytest.raises(UserError, match="not found"):
        PF.load_pose_eval_file(tmp_path / "missing.npz")


def test_smpl22_to_lsp_mapping_names():
    from hmvlm_bench.motion.skeleton import JOINT_NAMES

    for lsp_name, smpl in zip(PF.LSP_JOINT_NAMES, PF.LSP_FROM_SMPL22):
        if lsp_name == "head_top":
            assert JOINT_NAMES[smpl] == "head"
        else:
            assert JOINT_NAMES[smpl] == lsp_name


def test_h36m_task_on_fixture(synth_root, tmp_path):
    path, s = _write_spin_fixture(tmp_path / "h36m")
    ctx = make_ctx(synth_root, tmp_path, evaluator=None, extra_paths={"h36m": path})
    task = PI.PoseH36MTask()
    oracle = task.evaluate(view(FakeModel(oracle=True)), ctx)
    assert oracle.n_samples == 6
    assert oracle.metrics["mpjpe"].value == pytest.approx(0.0, abs=1e-3)
    assert oracle.metrics["pa_mpjpe"].value == pytest.approx(0.0, abs=1e-3)
    # a constant error of 10 cm on every scored joint -> MPJPE 100 mm after mid-hip centring
    # only if the hips move too; move all joints by the same offset -> 0 after centring
    shifted = FakeModel(pose=lambda r: r.target + 0.1)
    shifted.oracle = True
    assert task.evaluate(view(shifted), ctx).metrics["mpjpe"].value == pytest.approx(0.0, abs=1e-3)
    assert oracle.dataset["name"] == "h36m" and len(oracle.dataset["hash"]) == 16
    assert oracle.evaluator["name"] == "chatpose-protocol"
    # one joint off by 140 mm (right wrist, not a hip) -> MPJPE 140/14 = 10 mm
    def wrist(r):
        p = np.array(r.target, dtype=float)
        p[21, 0] += 0.14
        return p
    w = FakeModel(pose=wrist)
    w.oracle = True
    assert task.evaluate(view(w), ctx).metrics["mpjpe"].value == pytest.approx(10.0, abs=1e-3)
    assert task.task_hash(ctx) == task.task_hash(ctx)


def test_h36m_task_needs_the_file(ctx):
    task = PI.PoseH36MTask()
    assert task.preflight(ctx) == ["--data h36m=FILE.npz"]
    with pytest.raises(UserError, match="--data h36m=FILE.npz"):
        task.evaluate(view(FakeModel(oracle=True)), ctx)


def test_registration_hides_file_tasks():
    from hmvlm_bench.registry import Registries
    from hmvlm_bench.runner import expand_tasks
    from tasks.plugin import register

    regs = Registries()
    register(regs)
    everything = expand_tasks(["all"], regs)
    assert "pose_from_image_h36m" not in everything and "reconstruction_bvh" not in everything
    assert {"t2m", "t2m_first_token", "t2m_last_token", "t2m_compositional", "m2t",
            "pose_from_image", "reconstruction"} <= set(everything)
    assert expand_tasks(["t2m_all"], regs) == ["t2m", "t2m_first_token", "t2m_last_token", "t2m_compositional"]
    for name in everything + ["pose_from_image_h36m", "pose_from_image_3dpw", "reconstruction_bvh"]:
        cls = regs.tasks.get(name)
        assert cls.name == name and cls.main_metric in {m.name for m in cls.metrics}
