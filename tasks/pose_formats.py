"""Human3.6M / 3DPW evaluation files as used by ChatPose (and SPIN / 4D-Humans before it).

ChatPose (Feng et al., CVPR 2024) evaluates on the 4D-Humans (HMR 2.0) test files, which
keep SPIN's conventions: one `.npz` per set with `imgname` (image paths relative to an
image folder) and 3D joints in metres, evaluated on the 14 LSP joints after centring on
the pelvis, MPJPE and PA-MPJPE in mm. We read every joint layout those files use:

- `S` or `pose_3d` (N, 24, 3|4): SPIN's 24 ground-truth joints; the 14 LSP joints are
  J24_TO_J14 = [0..12, 18] (SPIN constants.py: the H3.6M head replaces LSP's head top);
- `extra_keypoints_3d` (N, 19, 4) or `keypoints_3d` (N, 44, 3|4, 25 OpenPose body joints
  + those 19): 4D-Humans evaluates H36M-VAL-P2 / 3DPW-TEST on extra joints 0..13
  (KEYPOINT_LIST 25..38), i.e. the LSP order with LSP's head top;
- (N, 17, 3|4) Human3.6M order: H36M_TO_J14 = [6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10]
  (SPIN constants.py);
- (N, 14, 3|4) LSP order directly; (N, 22, 3) our SMPL-22 order (all 22 joints used).
A fourth column (confidence) is dropped, as SPIN's evaluation does. A `layout` array in
the file (or the task option) overrides the guess from the key and shape.

Our models predict the 22 SMPL joints; LSP_FROM_SMPL22 maps them to the 14 LSP joints.
Twelve are the same anatomical joints; SMPL's neck and head stand in for LSP's neck and
head top, and SMPL hip centres differ from the H3.6M/MoSh ones, so absolute numbers are
not comparable with ChatPose's (which regress joints from SMPL vertices): the task says so
in `extra`. Both sides are centred on the mid-hip (SPIN eval.py `(j[2] + j[3]) / 2`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from hmvlm_bench.errors import UserError

LSP_JOINT_NAMES: Final[tuple[str, ...]] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "head_top",
)
# SPIN constants.py
J24_TO_J14: Final[tuple[int, ...]] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 18)
H36M_TO_J14: Final[tuple[int, ...]] = (6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10)
# 4D-Humans dataset config KEYPOINT_LIST for H36M-VAL-P2 / 3DPW-TEST: extra joints 0..13.
EXTRA19_TO_J14: Final[tuple[int, ...]] = tuple(range(14))
N_OPENPOSE_BODY: Final[int] = 25
# LSP joint i <- SMPL-22 joint (hmvlm_bench.motion.skeleton.JOINT_NAMES order).
LSP_FROM_SMPL22: Final[tuple[int, ...]] = (8, 5, 2, 1, 4, 7, 21, 19, 17, 16, 18, 20, 12, 15)
LSP_HIPS: Final[tuple[int, int]] = (2, 3)  # right_hip, left_hip
SMPL22_HIPS: Final[tuple[int, int]] = (2, 1)

LAYOUTS: Final[tuple[str, ...]] = ("spin24", "extra19", "hmr44", "h36m17", "lsp14", "smpl22")
_KEYS: Final[tuple[str, ...]] = ("S", "pose_3d", "keypoints_3d", "extra_keypoints_3d", "joints3d", "joints_3d")


@dataclass
class PoseEvalSet:
    """An evaluation set: image paths and ground-truth joints (N, J, 3) in metres in
    `layout` ('lsp14' after `to_lsp14`, or 'smpl22')."""

    imgnames: list[str]
    joints: np.ndarray
    layout: str
    image_root: Path
    source_key: str

    def __len__(self) -> int:
        return len(self.imgnames)

    def image_path(self, i: int) -> Path:
        return self.image_root / self.imgnames[i]

    def load_image(self, i: int) -> np.ndarray:
        import imageio.v3 as iio

        path = self.image_path(i)
        if not path.is_file():
            raise UserError(f"image {self.imgnames[i]!r} not found under {self.image_root} "
                            "(pass the image folder with the task option image_root=DIR)")
        img = np.asarray(iio.imread(path))
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        return img[..., :3]


def _guess_layout(key: str, shape: tuple[int, ...]) -> str:
    j = shape[1]
    if key == "extra_keypoints_3d" and j == 19:
        return "extra19"
    by_count = {24: "spin24", 44: "hmr44", 19: "extra19", 17: "h36m17", 14: "lsp14", 22: "smpl22"}
    if j not in by_count:
        raise UserError(f"cannot tell the joint layout of '{key}' with {j} joints "
                        f"(known: {', '.join(f'{n}={k}' for k, n in by_count.items())})")
    return by_count[j]


def to_lsp14(joints: np.ndarray, layout: str) -> np.ndarray:
    """(N, J, 3) in `layout` -> (N, 14, 3) LSP joints."""
    if layout == "spin24":
        return joints[:, list(J24_TO_J14)]
    if layout == "extra19":
        return joints[:, list(EXTRA19_TO_J14)]
    if layout == "hmr44":
        return joints[:, [N_OPENPOSE_BODY + i for i in EXTRA19_TO_J14]]
    if layout == "h36m17":
        return joints[:, list(H36M_TO_J14)]
    if layout == "lsp14":
        return joints
    if layout == "smpl22":
        return joints[:, list(LSP_FROM_SMPL22)]
    raise UserError(f"unknown joint layout '{layout}' (known: {', '.join(LAYOUTS)})")


def resolve_eval_file(path: str | Path) -> Path:
    """The `.npz` itself, or the only `.npz` inside a folder."""
    p = Path(path).expanduser()
    if p.is_dir():
        found = sorted(p.glob("*.npz"))
        if len(found) != 1:
            raise UserError(f"{p}: expected exactly one .npz evaluation file, found {len(found)}")
        p = found[0]
    if not p.is_file():
        raise UserError(f"pose evaluation file not found: {p}")
    return p


def as_smpl22(lsp: np.ndarray) -> np.ndarray:
    """(14, 3) LSP joints placed in their SMPL-22 slots; the 8 joints LSP lacks are set to
    the mid-hip point (they are never scored). Lets an oracle answer in our format."""
    out = np.repeat(((lsp[LSP_HIPS[0]] + lsp[LSP_HIPS[1]]) / 2.0)[None], 22, axis=0)
    out[list(LSP_FROM_SMPL22)] = lsp
    return out


def load_pose_eval_file(path: str | Path, image_root: str | Path | None = None, layout: str | None = None,
                        unit: str | None = None) -> PoseEvalSet:
    """Read a ChatPose/SPIN/4D-Humans style `.npz` (or a folder holding exactly one).

    `unit` 'm' or 'mm'; by default guessed from the size of the skeleton (a median
    hip-to-ankle distance above 10 means millimetres) and converted to metres."""
    p = resolve_eval_file(path)
    try:
        data = np.load(p, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise UserError(f"cannot read {p} as .npz without pickle: {exc}") from None
    with data:
        if "imgname" not in data.files:
            raise UserError(f"{p}: no 'imgname' array (keys: {', '.join(data.files)})")
        key = next((k for k in _KEYS if k in data.files), None)
        if key is None:
            raise UserError(f"{p}: no 3D joints (looked for {', '.join(_KEYS)}; keys: {', '.join(data.files)})")
        joints = np.asarray(data[key], dtype=np.float64)
        names = [str(n) for n in data["imgname"]]
        stored_layout = str(data["layout"]) if "layout" in data.files else None
    if joints.ndim != 3 or joints.shape[-1] not in (3, 4):
        raise UserError(f"{p}: '{key}' has shape {joints.shape}, expected (N, J, 3) or (N, J, 4)")
    if len(names) != joints.shape[0]:
        raise UserError(f"{p}: {len(names)} image names but {joints.shape[0]} poses")
    if len(names) == 0:
        raise UserError(f"{p}: the evaluation file is empty")
    joints = joints[..., :3]
    lay = layout or stored_layout or _guess_layout(key, joints.shape)
    if lay not in LAYOUTS:
        raise UserError(f"unknown joint layout '{lay}' (known: {', '.join(LAYOUTS)})")
    if not np.isfinite(joints).all():
        raise UserError(f"{p}: '{key}' contains NaN or inf")
    out = joints if lay == "smpl22" else to_lsp14(joints, lay)
    scale = _unit_scale(out, "smpl22" if lay == "smpl22" else "lsp14", unit)
    return PoseEvalSet(imgnames=names, joints=out * scale, layout="smpl22" if lay == "smpl22" else "lsp14",
                       image_root=Path(image_root).expanduser() if image_root else p.parent, source_key=key)


def _unit_scale(joints: np.ndarray, layout: str, unit: str | None) -> float:
    if unit is not None:
        if unit not in ("m", "mm"):
            raise UserError(f"unit must be 'm' or 'mm', got {unit!r}")
        return 1.0 if unit == "m" else 1e-3
    hip, ankle = (2, 0) if layout == "lsp14" else (2, 8)  # right hip -> right ankle
    leg = float(np.median(np.linalg.norm(joints[:, hip] - joints[:, ankle], axis=-1)))
    return 1e-3 if leg > 10.0 else 1.0


def centre_on_hips(joints: np.ndarray, layout: str) -> np.ndarray:
    """Subtract the mid-hip point (SPIN/ChatPose pelvis) from (N, J, 3) joints."""
    a, b = LSP_HIPS if layout == "lsp14" else SMPL22_HIPS
    return joints - (joints[:, [a]] + joints[:, [b]]) / 2.0
