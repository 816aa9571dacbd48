"""Software renderer: determinism, keypoints, occlusion order, GIF output."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion import skeleton as S
from hmvlm_bench.motion.render import Camera, render_motion_gif, render_pose, sample_camera


def test_deterministic_and_keypoints() -> None:
    pose = S.rest_joints() + np.array([0.0, 0.9, 0.0])
    cam = sample_camera(np.random.default_rng(0))
    img1, kp1, cam1 = render_pose(pose, cam, size=128)
    img2, kp2, _ = render_pose(pose, cam, size=128)
    assert img1.dtype == np.uint8 and img1.shape == (128, 128, 3)
    assert img1.tobytes() == img2.tobytes() and np.array_equal(kp1, kp2)
    assert cam1.target == (0.0, 0.9, 0.0)  # aimed at the pelvis ...
    np.testing.assert_allclose(kp1[0], [64.0, 64.0], atol=1e-9)  # ... which lands mid-image
    # a frontal camera: the body's left (+X) appears on the image's right
    _, kp, _ = render_pose(pose, Camera(yaw=0.0, pitch=0.0), size=128)
    assert kp[16, 0] > kp[0, 0] > kp[17, 0] and kp[15, 1] < kp[0, 1] < kp[7, 1]


def test_body_drawn_at_keypoints_and_front_occludes_back() -> None:
    pose = S.rest_joints() + np.array([0.0, 0.9, 0.0])
    pose[20] = pose[0] + [0.0, 0.0, 0.4]  # left hand held in front of the pelvis
    img, kp, _ = render_pose(pose, Camera(yaw=0.0, pitch=0.0), size=160, floor=False)
    bg = img[2, 2].astype(int)
    head = kp[15].round().astype(int)
    assert np.abs(img[head[1], head[0]].astype(int) - bg).sum() > 30
    hand = kp[20].round().astype(int)
    r, g, b = img[hand[1], hand[0]].astype(int)
    assert r > b + 40  # the (orange) left forearm covers the (grey) torso behind it


def test_gif(tmp_path: Path) -> None:
    import imageio.v3 as iio

    motion = np.stack([S.rest_joints() + [0.05 * t, 0.9, 0.0] for t in range(4)])
    out = render_motion_gif(motion, tmp_path / "m.gif", fps=20, size=64)
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == 4 and frames.shape[1:3] == (64, 64)
    with pytest.raises(UserError):
        render_pose(np.zeros((21, 3)))


def test_mp4(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    import imageio.v3 as iio

    motion = np.stack([S.rest_joints() + [0.05 * t, 0.9, 0.0] for t in range(6)])
    out = render_motion_gif(motion, tmp_path / "m.mp4", size=64)
    assert iio.imread(out, index=None).shape == (6, 64, 64, 3)
