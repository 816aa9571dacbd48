"""Skeletons of the motion representations: the 22-joint HumanML3D / SMPL skeleton (with
the five HMVLM body parts) and the 21-joint KIT-ML skeleton.

One module holds every skeleton constant; everything else imports from here. The feature
conversion (features.py) is written once over a `SkeletonSpec`: `HUMANML3D` and `KIT`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

# Joint order of the SMPL body (first 22 joints), as used by HumanML3D `new_joints`.
# Source: EricGuo5513/HumanML3D paramUtil.py / SMPL joint list.
JOINT_NAMES: Final[tuple[str, ...]] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
N_JOINTS: Final[int] = 22

# Kinematic chains: right leg, left leg, spine/head, right arm, left arm.
# Source: HumanML3D paramUtil.t2m_kinematic_chain.
KINEMATIC_CHAIN: Final[tuple[tuple[int, ...], ...]] = (
    (0, 2, 5, 8, 11),
    (0, 1, 4, 7, 10),
    (0, 3, 6, 9, 12, 15),
    (9, 14, 17, 19, 21),
    (9, 13, 16, 18, 20),
)

# Parent of each joint, derived from the kinematic chain (root has parent -1).
PARENTS: Final[tuple[int, ...]] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
)

# Unit offset direction of each joint from its parent in the rest pose.
# Source: HumanML3D paramUtil.t2m_raw_offsets.
RAW_OFFSETS: Final[np.ndarray] = np.array(
    [[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0],
     [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0],
     [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
     [0, -1, 0]],
    dtype=np.float64,
)

# Foot joints for contact labels and face joints for the facing direction.
# Source: HumanML3D motion_representation.ipynb (fid_r, fid_l = [8, 11], [7, 10];
# face_joint_indx = [2, 1, 17, 16]: r_hip, l_hip, sdr_r, sdr_l).
FOOT_RIGHT: Final[tuple[int, int]] = (8, 11)
FOOT_LEFT: Final[tuple[int, int]] = (7, 10)
FACE_JOINTS: Final[tuple[int, int, int, int]] = (2, 1, 17, 16)
FOOT_CONTACT_VEL_THRESHOLD: Final[float] = 0.002  # HumanML3D feet_thre (squared vel)

FPS: Final[int] = 20  # HumanML3D frame rate
FEATURE_DIM: Final[int] = 263  # HumanML3D feature width for 22 joints

# Layout of the 263-d HumanML3D feature vector (Guo et al. 2022, sec. 3; DESIGN.md 4).
ROOT_ROT_VEL: Final[slice] = slice(0, 1)  # angular velocity about Y
ROOT_LIN_VEL: Final[slice] = slice(1, 3)  # linear velocity on XZ
ROOT_HEIGHT: Final[slice] = slice(3, 4)  # root Y
RIC: Final[slice] = slice(4, 4 + 21 * 3)  # joints 1..21, root-relative, heading-canonical
ROT6D: Final[slice] = slice(67, 67 + 21 * 6)  # joints 1..21, continuous 6D rotation
LOCAL_VEL: Final[slice] = slice(193, 193 + 22 * 3)  # joints 0..21 velocity
FOOT_CONTACT: Final[slice] = slice(259, 263)  # l_ankle, l_foot, r_ankle, r_foot

# HMVLM partitions the body into torso + four limbs (paper sec. 3.4). The kinematic
# chains give a natural split; the root, spine, neck, head and collars go to the torso.
BODY_PARTS: Final[dict[str, tuple[int, ...]]] = {
    "torso": (0, 3, 6, 9, 12, 15, 13, 14),
    "left_arm": (16, 18, 20),
    "right_arm": (17, 19, 21),
    "left_leg": (1, 4, 7, 10),
    "right_leg": (2, 5, 8, 11),
}
PART_NAMES: Final[tuple[str, ...]] = tuple(BODY_PARTS)
N_PARTS: Final[int] = len(BODY_PARTS)


def part_of_joint() -> np.ndarray:
    """Array (22,) giving the part index of every joint."""
    out = np.full(N_JOINTS, -1, dtype=np.int64)
    for p, joints in enumerate(BODY_PARTS.values()):
        out[list(joints)] = p
    assert (out >= 0).all(), "every joint belongs to exactly one part"
    return out


# Bone length (metres) from each joint's parent in the HumanML3D target skeleton; index 0
# (root) is 0. HumanML3D retargets every clip to the offsets of subject 000021
# (motion_representation.ipynb, `tgt_offsets`); these are measured from its released
# sample EricGuo5513/HumanML3D HumanML3D/new_joints/012314.npy (std over frames < 1e-6).
BONE_LENGTHS: Final[np.ndarray] = np.array(
    [0.0, 0.103074, 0.109883, 0.131568, 0.393623, 0.390188, 0.143190, 0.432433, 0.425643,
     0.057365, 0.143382, 0.149419, 0.219360, 0.137487, 0.143383, 0.103039, 0.131614,
     0.122984, 0.256840, 0.263092, 0.266012, 0.269876],
    dtype=np.float64,
)


# --- KIT-ML (Plappert et al. 2016, as processed by Guo et al. 2022) ----------------------
# Sources: EricGuo5513/HumanML3D paramUtil.py (identical to EricGuo5513/text-to-motion
# utils/paramUtil.py; chain, raw offsets, target subject '03950') and text-to-motion
# scripts/motion_process.py, KIT `__main__` block (leg, foot and face joints, feet_thre
# 0.05, 12.5 fps), commit 7a2a2b2c.
KIT_N_JOINTS: Final[int] = 21
KIT_KINEMATIC_CHAIN: Final[tuple[tuple[int, ...], ...]] = (
    (0, 11, 12, 13, 14, 15),  # right leg (11 = r_hip in face_joint_indx)
    (0, 16, 17, 18, 19, 20),  # left leg
    (0, 1, 2, 3, 4),  # spine to head
    (3, 5, 6, 7),  # right arm (5 = sdr_r)
    (3, 8, 9, 10),  # left arm
)
KIT_RAW_OFFSETS: Final[np.ndarray] = np.array(
    [[0, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [1, 0, 0], [0, -1, 0],
     [0, -1, 0], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [1, 0, 0], [0, -1, 0], [0, -1, 0],
     [0, 0, 1], [0, 0, 1], [-1, 0, 0], [0, -1, 0], [0, -1, 0], [0, 0, 1], [0, 0, 1]],
    dtype=np.float64,
)
# Note: these raw offsets put r_hip (11) and sdr_r (5) on +X, while a body the face joints
# call facing +Z has them on -X, so those bones' local rotations are near 180 degrees (the
# reference's qbetween is 0/0 exactly there; ours turns 180 degrees, kinematics.quat_between).
# fid_r, fid_l = [14, 15], [19, 20] in the reference: the ankle and toe of the chain that
# starts at r_hip 11 are the right foot (a brief that swapped them was wrong).
KIT_FOOT_RIGHT: Final[tuple[int, int]] = (14, 15)
KIT_FOOT_LEFT: Final[tuple[int, int]] = (19, 20)
KIT_FACE_JOINTS: Final[tuple[int, int, int, int]] = (11, 16, 5, 8)  # r_hip, l_hip, sdr_r, sdr_l
KIT_LEG_JOINTS: Final[tuple[int, int]] = (17, 18)  # l_idx1, l_idx2: lower-leg bones for the scale
# KIT positions are millimetres and the reference leaves them so (no rescaling before the
# features; its plots use radius 240 * 8): feet_thre 0.05 is in mm^2, i.e. a foot counts as
# in contact below ~0.22 mm per frame at 12.5 fps.
KIT_FOOT_CONTACT_VEL_THRESHOLD: Final[float] = 0.05
KIT_FPS: Final[float] = 12.5


def parents_from_chain(chain: tuple[tuple[int, ...], ...], n_joints: int) -> tuple[int, ...]:
    """Parent of every joint (root -1) as HumanML3D `Skeleton.__init__` derives it."""
    parents = [-1] * n_joints
    for c in chain:
        for k in range(1, len(c)):
            parents[c[k]] = c[k - 1]
    return tuple(parents)


@dataclass(frozen=True, eq=False)
class SkeletonSpec:
    """What the joints <-> features conversion needs to know about a skeleton.

    `bone_lengths` are the target lengths every clip is retargeted to (None: keep each
    clip's own frame-0 lengths, see features.uniform_skeleton)."""

    name: str
    kinematic_chain: tuple[tuple[int, ...], ...]
    raw_offsets: np.ndarray  # (J, 3) unit rest direction of each joint from its parent
    foot_right: tuple[int, int]
    foot_left: tuple[int, int]
    face_joints: tuple[int, int, int, int]  # r_hip, l_hip, sdr_r, sdr_l
    leg_joints: tuple[int, int]
    feet_threshold: float  # squared per-frame foot displacement, in the data's units
    fps: float
    units: str
    bone_lengths: np.ndarray | None = None

    @property
    def n_joints(self) -> int:
        return int(self.raw_offsets.shape[0])

    @property
    def parents(self) -> tuple[int, ...]:
        return parents_from_chain(self.kinematic_chain, self.n_joints)

    @property
    def feature_dim(self) -> int:
        """Root (4) + ric (J-1)*3 + 6D rotations (J-1)*6 + velocities J*3 + contacts (4)."""
        j = self.n_joints
        return 4 + (j - 1) * 3 + (j - 1) * 6 + j * 3 + 4


HUMANML3D: Final[SkeletonSpec] = SkeletonSpec(
    name="HumanML3D", kinematic_chain=KINEMATIC_CHAIN, raw_offsets=RAW_OFFSETS,
    foot_right=FOOT_RIGHT, foot_left=FOOT_LEFT, face_joints=FACE_JOINTS, leg_joints=(5, 8),
    feet_threshold=FOOT_CONTACT_VEL_THRESHOLD, fps=float(FPS), units="m", bone_lengths=BONE_LENGTHS,
)
# The reference retargets KIT clips to subject 03950's frame 0 (`kit_tgt_skel_id`); that
# clip is not available here, so no default target: pass `target_lengths` to reproduce it.
KIT: Final[SkeletonSpec] = SkeletonSpec(
    name="KIT-ML", kinematic_chain=KIT_KINEMATIC_CHAIN, raw_offsets=KIT_RAW_OFFSETS,
    foot_right=KIT_FOOT_RIGHT, foot_left=KIT_FOOT_LEFT, face_joints=KIT_FACE_JOINTS,
    leg_joints=KIT_LEG_JOINTS, feet_threshold=KIT_FOOT_CONTACT_VEL_THRESHOLD, fps=KIT_FPS, units="mm",
)
assert HUMANML3D.parents == PARENTS and HUMANML3D.feature_dim == FEATURE_DIM
assert KIT.feature_dim == 251  # text-to-motion get_opt.py: dim_pose 251 for kit


def canonical_offsets(bone_lengths: np.ndarray | None = None, skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """Rest-pose offsets (J, 3) of each joint from its parent: raw offsets * bone length."""
    if bone_lengths is None:
        if skeleton.bone_lengths is None:
            raise ValueError(f"{skeleton.name} has no default bone lengths; pass bone_lengths")
        bone_lengths = skeleton.bone_lengths
    return skeleton.raw_offsets * np.asarray(bone_lengths, np.float64)[:, None]


def rest_joints(bone_lengths: np.ndarray | None = None, skeleton: SkeletonSpec = HUMANML3D) -> np.ndarray:
    """Rest-pose joint positions (J, 3) along the raw offsets (arms down), root at origin."""
    off = canonical_offsets(bone_lengths, skeleton)
    out = np.zeros_like(off)
    parents = skeleton.parents
    for j in range(1, skeleton.n_joints):  # parents precede children (both skeletons)
        out[j] = out[parents[j]] + off[j]
    return out
