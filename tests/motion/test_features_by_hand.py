"""HumanML3D features of a hand-built skeleton, written down from the reference formulas
(HumanML3D motion_representation.ipynb `process_file`), independent of our code's output.

The clip: HumanML3D's target skeleton (bone lengths `skeleton.BONE_LENGTHS`) in its rest
pose (every bone along its `t2m_raw_offsets` direction), facing Z+, gliding forward along
+Z by `v` metres per frame, then yawed and shifted as a whole. By the formulas:
- the yaw and shift are undone (frame 0 root at the XZ origin facing Z+), the lowest joint
  (the feet) goes to y = 0, so the root height is h = -min_j rest_y(j);
- [0] root angular velocity 0; [1:3] root linear velocity (x, z) = (0, v);
- [3] root height h; [4:67] joints 1..21: rest offset from the root in x and z, height
  rest_y(j) + h (y is not made root-relative);
- [67:193] rest pose = identity local rotations: 6D (first two matrix columns) 1,0,0,0,1,0;
- [193:259] every joint moves (0, 0, v) in the root frame;
- [259:263] contacts: squared displacement v^2 under 0.002 -> 1, else 0.
"""
from __future__ import annotations

import numpy as np
import pytest

from hmvlm_bench.motion import skeleton as S
from hmvlm_bench.motion.features import features_to_joints, joints_to_features


def gliding_clip(n: int, v: float, yaw: float, shift: tuple[float, float, float]) -> np.ndarray:
    rest = S.rest_joints()  # root at the origin, bones along RAW_OFFSETS
    x = np.stack([rest + np.array([0.0, 0.0, v * t]) for t in range(n)])
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])  # about +Y
    return x @ rot.T + np.asarray(shift)


def expected_features(n: int, v: float) -> np.ndarray:
    rest = S.rest_joints()
    h = -rest[:, 1].min()
    row = np.zeros(263)
    row[1:3] = (0.0, v)
    row[3] = h
    ric = rest[1:].copy()
    ric[:, 1] += h
    row[4:67] = ric.reshape(-1)
    row[67:193] = np.tile([1.0, 0.0, 0.0, 0.0, 1.0, 0.0], 21)
    row[193:259] = np.tile([0.0, 0.0, v], 22)
    row[259:263] = 1.0 if v * v < 0.002 else 0.0
    return np.tile(row, (n - 1, 1))


@pytest.mark.parametrize("v", [0.03, 0.05])  # contacts on (0.0009 < 0.002) and off (0.0025)
def test_features_of_a_gliding_rest_pose_follow_the_reference_formulas(v: float) -> None:
    n = 12
    clip = gliding_clip(n, v, yaw=0.7, shift=(1.5, 0.3, -2.0))
    feats = joints_to_features(clip)
    want = expected_features(n, v)
    np.testing.assert_allclose(feats, want, atol=1e-9)
    # and back: the recovered joints are the canonical clip (origin, floor, facing Z+)
    rest = S.rest_joints()
    canon = np.stack([rest + np.array([0.0, -rest[:, 1].min(), v * t]) for t in range(n - 1)])
    np.testing.assert_allclose(features_to_joints(want), canon, atol=1e-9)
