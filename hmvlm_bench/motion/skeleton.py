"""The 22-joint HumanML3D / SMPL skeleton and the five HMVLM body parts.

One module holds every skeleton constant; everything else imports from here.
"""
from __future__ import annotations

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


def canonical_offsets(bone_lengths: np.ndarray | None = None) -> np.ndarray:
    """Rest-pose offsets (22, 3) of each joint from its parent: RAW_OFFSETS * bone length."""
    lengths = BONE_LENGTHS if bone_lengths is None else np.asarray(bone_lengths, np.float64)
    return RAW_OFFSETS * lengths[:, None]


def rest_joints(bone_lengths: np.ndarray | None = None) -> np.ndarray:
    """Rest-pose joint positions (22, 3) along RAW_OFFSETS (arms down), root at origin."""
    off = canonical_offsets(bone_lengths)
    out = np.zeros_like(off)
    for j in range(1, N_JOINTS):  # parents precede children in PARENTS
        out[j] = out[PARENTS[j]] + off[j]
    return out
