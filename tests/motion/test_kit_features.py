"""KIT-ML joints (T, 21, 3) in millimetres <-> 251-d features, on a hand-built 21-joint body.

Two independent checks of `joints_to_features(..., skeleton=KIT)`:
- by hand: the body stands still in its rest pose and glides forward `v` mm per frame
  (then is yawed and shifted as a whole), its left toe tipping up about the ankle by an
  angle `phi` every other frame (a rotation: the uniform skeleton keeps bone lengths);
  root velocity, facing, root height, root-relative positions, joint velocities and foot
  contacts follow from the reference formulas without running them;
- against `_reference_features`, a plain transcription of the reference procedure
  (text-to-motion scripts/motion_process.py `process_file` with `Skeleton.inverse_kinematics_np`
  / `forward_kinematics_np` of HumanML3D common/skeleton.py and its quaternion formulas),
  written here loop by loop with KIT's constants, on that body and on a turning variant.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion import skeleton as S
from hmvlm_bench.motion.features import bone_lengths, canonicalize, features_to_joints, joints_to_features

KIT = S.KIT
HIP_TILT, SHOULDER_TILT = 0.3, 0.2  # radians below horizontal: no bone exactly opposite its
# raw offset (the reference's qbetween is 0/0 there; real mocap never hits it exactly)


def _body_directions() -> np.ndarray:
    """Unit bone directions (21, 3) of a KIT body facing +Z: the right hip and shoulder on
    -X (the face joints then give forward +Z), legs and arms down, feet forward."""
    d = KIT.raw_offsets.copy()
    ca, sa, cb, sb = np.cos(HIP_TILT), np.sin(HIP_TILT), np.cos(SHOULDER_TILT), np.sin(SHOULDER_TILT)
    d[11], d[16] = (-ca, -sa, 0.0), (ca, -sa, 0.0)  # r_hip, l_hip
    d[5], d[8] = (-cb, -sb, 0.0), (cb, -sb, 0.0)  # sdr_r, sdr_l
    return d


# bone lengths in mm (root, spine x3, head, right arm, left arm, right leg, left leg)
LENGTHS = np.array([0, 110, 150, 210, 160, 190, 290, 260, 190, 290, 260,
                    95, 430, 420, 60, 110, 95, 430, 420, 60, 110], dtype=np.float64)


def body_rest() -> np.ndarray:
    out = np.zeros((21, 3))
    d, parents = _body_directions(), KIT.parents
    for j in range(1, 21):
        out[j] = out[parents[j]] + LENGTHS[j] * d[j]
    return out


def toe_tip(phi: float) -> np.ndarray:
    """Displacement of the left toe (20, LENGTHS[20] forward of the ankle) tipped up by phi."""
    return LENGTHS[20] * np.array([0.0, np.sin(phi), np.cos(phi) - 1.0])


def gliding_body(n: int, v: float, phi: float, yaw: float = 0.9, shift=(2500.0, 40.0, -800.0)) -> np.ndarray:
    """Rest body moving +Z by v mm/frame, left toe (20) tipped up by phi on odd frames; then
    yawed about +Y and shifted, both of which the canonicalisation undoes."""
    x = np.stack([body_rest() + np.array([0.0, 0.0, v * t]) for t in range(n)])
    x[1::2, 20] += toe_tip(phi)
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return x @ rot.T + np.asarray(shift)


def turning_body(n: int) -> np.ndarray:
    """The rest body walking a curve: yaw grows 0.06 rad per frame, 30 mm per frame forward."""
    rest, out, pos = body_rest(), [], np.zeros(3)
    for t in range(n):
        a = 0.06 * t
        c, s = np.cos(a), np.sin(a)
        rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        out.append(rest @ rot.T + pos)
        pos = pos + 30.0 * np.array([s, 0.0, c])
    return np.stack(out)


def expected_by_hand(n: int, v: float, phi: float) -> dict[str, np.ndarray]:
    """The features of `gliding_body` from the formulas (no rotations: those need IK)."""
    rest = body_rest()
    h = -rest[:, 1].min()  # the feet go to the floor; the tipping toe only rises
    odd = (np.arange(n) % 2)[:, None]
    toe = toe_tip(phi) * odd  # (n, 3) toe offset per frame
    ric = np.tile(rest[1:] + [0.0, h, 0.0], (n - 1, 1, 1))
    ric[:, 19] += toe[:-1]  # joint 20 is ric row 19
    vel = np.tile([0.0, 0.0, v], (n - 1, 21, 1))
    vel[:, 20] += toe[1:] - toe[:-1]
    still = float(v * v < KIT.feet_threshold)
    toe_contact = ((vel[:, 20] ** 2).sum(-1) < KIT.feet_threshold).astype(float)
    contacts = np.tile([still, 0.0, still, still], (n - 1, 1))
    contacts[:, 1] = toe_contact
    return {
        "root": np.tile([0.0, 0.0, v, h], (n - 1, 1)),  # no turning, forward v, height h
        "ric": ric.reshape(n - 1, -1),
        "vel": vel.reshape(n - 1, -1),
        "contacts": contacts,  # order: left ankle 19, left toe 20, right 14, right 15
    }


# v^2 against feet_thre 0.05 mm^2: 0.04 -> contact, 0.0625 -> none; phi = 0.01 tips the toe
# 1.1 mm up (1.2 mm^2 per frame: no contact)
@pytest.mark.parametrize(("v", "phi", "want"), [(0.2, 0.01, [1, 0, 1, 1]), (0.2, 0.0, [1, 1, 1, 1]),
                                                (0.25, 0.0, [0, 0, 0, 0]), (40.0, 0.01, [0, 0, 0, 0])])
def test_features_of_a_gliding_body_follow_the_formulas(v: float, phi: float, want: list[int]) -> None:
    n = 10
    feats = joints_to_features(gliding_body(n, v, phi), skeleton=KIT)
    assert feats.shape == (n - 1, 251) == (n - 1, KIT.feature_dim)
    exp = expected_by_hand(n, v, phi)
    np.testing.assert_allclose(feats[:, 0:4], exp["root"], atol=1e-9)
    np.testing.assert_allclose(feats[:, 4:64], exp["ric"], atol=1e-8)
    np.testing.assert_allclose(feats[:, 184:247], exp["vel"], atol=1e-8)
    np.testing.assert_array_equal(feats[:, 247:251], exp["contacts"])
    np.testing.assert_array_equal(feats[0, 247:251], want)


def test_round_trip_recovers_the_canonical_body() -> None:
    n, v, phi = 10, 40.0, 0.01
    clip = gliding_body(n, v, phi)
    feats = joints_to_features(clip, skeleton=KIT)
    back = features_to_joints(feats, skeleton=KIT)
    assert back.shape == (n - 1, 21, 3)
    # by hand: root at the XZ origin facing +Z, feet on the floor, then forward v per frame
    rest = body_rest()
    canon = np.stack([rest + np.array([0.0, -rest[:, 1].min(), v * t]) for t in range(n - 1)])
    canon[1::2, 20] += toe_tip(phi)
    np.testing.assert_allclose(back, canon, atol=1e-8)
    np.testing.assert_allclose(canonicalize(clip, skeleton=KIT)[:-1], canon, atol=1e-8)
    # and the turning walk comes back as its canonical self
    walk = turning_body(30)
    np.testing.assert_allclose(features_to_joints(joints_to_features(walk, skeleton=KIT), skeleton=KIT),
                               canonicalize(walk, skeleton=KIT)[:-1], atol=1e-6)


def test_retargeting_scales_the_root_by_the_leg_ratio() -> None:
    clip = gliding_body(6, 40.0, 0.0)
    half = joints_to_features(clip, skeleton=KIT, target_lengths=LENGTHS / 2)
    # every length halves: root speed 20, height half; contacts of the slower feet unchanged
    np.testing.assert_allclose(half[:, 2], 20.0, atol=1e-9)
    np.testing.assert_allclose(half[:, 3], -body_rest()[:, 1].min() / 2, atol=1e-9)
    np.testing.assert_allclose(bone_lengths(canonicalize(clip, LENGTHS / 2, KIT), KIT), np.tile(LENGTHS / 2, (6, 1)),
                               atol=1e-9)


def test_kit_shapes_are_checked() -> None:
    with pytest.raises(UserError, match="KIT-ML joints must have shape"):
        joints_to_features(np.zeros((5, 22, 3)), skeleton=KIT)
    with pytest.raises(UserError, match="251"):
        features_to_joints(np.zeros((5, 263)), skeleton=KIT)


# --- transcription of the reference procedure ---------------------------------------------
def _qmul(q, r):
    w1, x1, y1, z1 = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    w2, x2, y2, z2 = r[..., 0], r[..., 1], r[..., 2], r[..., 3]
    return np.stack([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], -1)


def _qinv(q):
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def _qrot(q, v):
    u = q[..., 1:]
    return v + 2.0 * (q[..., :1] * np.cross(u, v) + np.cross(u, np.cross(u, v)))


def _qbetween(a, b):
    """Reference qbetween: (|a||b| + a.b, a x b), normalised (0/0 for opposite vectors)."""
    w = np.sqrt((a ** 2).sum(-1) * (b ** 2).sum(-1)) + (a * b).sum(-1)
    q = np.concatenate([w[..., None], np.cross(a, b)], -1)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _qmat(q):
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack([np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
                     np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
                     np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], -2)


def _ik(joints, smooth):
    """Skeleton.inverse_kinematics_np: face joints unpacked as (l_hip, r_hip, sdr_r, sdr_l)."""
    l_hip, r_hip, sdr_r, sdr_l = S.KIT_FACE_JOINTS
    across = (joints[:, r_hip] - joints[:, l_hip]) + (joints[:, sdr_r] - joints[:, sdr_l])
    across = across / np.linalg.norm(across, axis=-1, keepdims=True)
    forward = np.cross(np.array([[0.0, 1.0, 0.0]]), across)
    if smooth:
        forward = gaussian_filter1d(forward, 20, axis=0, mode="nearest")
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    root = _qbetween(forward, np.tile([0.0, 0.0, 1.0], (len(forward), 1)))
    root[0] = [1.0, 0.0, 0.0, 0.0]
    quats = np.zeros(joints.shape[:-1] + (4,))
    quats[:, 0] = root
    for chain in S.KIT_KINEMATIC_CHAIN:
        r = root
        for j in range(len(chain) - 1):
            u = np.tile(S.KIT_RAW_OFFSETS[chain[j + 1]], (len(joints), 1))
            b = joints[:, chain[j + 1]] - joints[:, chain[j]]
            g = _qbetween(u, b / np.linalg.norm(b, axis=-1, keepdims=True))
            quats[:, chain[j + 1]] = _qmul(_qinv(r), g)
            r = _qmul(r, quats[:, chain[j + 1]])
    return quats


def _fk(quats, root_pos, offsets):
    out = np.zeros(quats.shape[:-1] + (3,))
    out[:, 0] = root_pos
    for chain in S.KIT_KINEMATIC_CHAIN:
        r = quats[:, 0]
        for i in range(1, len(chain)):
            r = _qmul(r, quats[:, chain[i]])
            out[:, chain[i]] = _qrot(r, np.tile(offsets[chain[i]], (len(quats), 1))) + out[:, chain[i - 1]]
    return out


def _reference_features(positions: np.ndarray) -> np.ndarray:
    """process_file(positions, 0.05) with KIT's constants; the target offsets are the clip's
    own frame 0 (get_offsets_joints), as the reference does for its target clip."""
    parents = S.parents_from_chain(S.KIT_KINEMATIC_CHAIN, 21)
    p0 = positions[0]
    tgt = np.array([S.KIT_RAW_OFFSETS[i] * (np.linalg.norm(p0[i] - p0[parents[i]]) if i else 0.0)
                    for i in range(21)])
    l1, l2 = S.KIT_LEG_JOINTS
    scale = (np.abs(tgt[l1]).max() + np.abs(tgt[l2]).max()) / (np.abs(tgt[l1]).max() + np.abs(tgt[l2]).max())
    pos = _fk(_ik(positions, smooth=False), positions[:, 0] * scale, tgt)  # uniform skeleton
    pos[:, :, 1] -= pos.min(axis=0).min(axis=0)[1]
    init = pos[0]
    pos = pos - init[0] * np.array([1.0, 0.0, 1.0])
    r_hip, l_hip, sdr_r, sdr_l = S.KIT_FACE_JOINTS
    across = (init[r_hip] - init[l_hip]) + (init[sdr_r] - init[sdr_l])
    fwd = np.cross(np.array([0.0, 1.0, 0.0]), across / np.linalg.norm(across))
    pos = _qrot(np.broadcast_to(_qbetween(fwd / np.linalg.norm(fwd), np.array([0.0, 0.0, 1.0])),
                                pos.shape[:-1] + (4,)), pos)
    glob = pos.copy()
    step2 = ((pos[1:] - pos[:-1]) ** 2).sum(-1)
    feet_l = (step2[:, list(S.KIT_FOOT_LEFT)] < 0.05).astype(float)
    feet_r = (step2[:, list(S.KIT_FOOT_RIGHT)] < 0.05).astype(float)
    quats = _ik(pos, smooth=True)
    mats = _qmat(quats)
    cont6d = np.concatenate([mats[..., 0], mats[..., 1]], -1)  # first two columns
    r_rot = quats[:, 0]
    vel = _qrot(r_rot[1:], pos[1:, 0] - pos[:-1, 0])
    r_vel = _qmul(r_rot[1:], _qinv(r_rot[:-1]))
    ric = pos.copy()
    ric[..., 0] -= pos[:, 0:1, 0]
    ric[..., 2] -= pos[:, 0:1, 2]
    ric = _qrot(np.repeat(r_rot[:, None], 21, axis=1), ric)
    local_vel = _qrot(np.repeat(r_rot[:-1, None], 21, axis=1), glob[1:] - glob[:-1])
    n = len(pos) - 1
    return np.concatenate([np.arcsin(r_vel[:, 2:3]), vel[:, [0, 2]], ric[:-1, 0, 1:2],
                           ric[:-1, 1:].reshape(n, -1), cont6d[:-1, 1:].reshape(n, -1),
                           local_vel.reshape(n, -1), feet_l, feet_r], -1)


@pytest.mark.parametrize("clip", ["glide_contact", "glide", "turn"])
def test_features_equal_a_transcription_of_the_reference(clip: str) -> None:
    x = {"glide_contact": lambda: gliding_body(10, 0.2, 0.01), "glide": lambda: gliding_body(10, 40.0, 0.01),
         "turn": lambda: turning_body(30)}[clip]()
    want = _reference_features(x)
    assert want.shape[1] == 251 and np.isfinite(want).all()
    got = joints_to_features(x, skeleton=KIT)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
    if clip == "turn":  # the heading really moves, and the 6D rotations are not identities
        assert np.abs(got[:, 0]).min() > 1e-3
        assert np.abs(got[:, 64:184] - np.tile([1.0, 0, 0, 0, 1.0, 0], 20)).max() > 0.5
