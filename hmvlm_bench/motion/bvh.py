"""BVH motion capture -> 22-joint HumanML3D joints and features.

Our own parser (BVH as documented by Biovision / the CMU conversions): hierarchy with
OFFSET and CHANNELS per joint, End Sites, "Frames:" and "Frame Time:". Each joint's local
transform is translation (OFFSET + any position channels) and a rotation made of its
rotation channels in file order (R = R_c1 @ R_c2 @ R_c3, degrees). Global positions come
from FK, are retargeted to the 22 SMPL joints by name (common rigs: CMU/bvhtools
"Hips, LeftUpLeg, LeftLeg, LeftFoot, LeftToeBase, Spine, Neck, Head, LeftShoulder,
LeftArm, LeftForeArm, LeftHand, ..."), rotated to Y up, scaled to metres, resampled to
20 fps and cut into clips of at most 196 feature frames, then converted with features.py.

Joints the rig lacks are filled in: spine1..3 are placed along the rig's pelvis -> neck
spine polyline at HumanML3D's bone-length fractions (unless the rig has exactly three
spine joints, used as they are); collars at the midpoint of spine3 and shoulder; toes
ahead of the ankle; the head above the neck.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.kinematics import euler_to_matrix
from hmvlm_bench.motion.skeleton import BONE_LENGTHS, FPS, JOINT_NAMES, N_JOINTS

# Rig joint names accepted for each SMPL joint, first match wins (case-insensitive).
NAME_MAP: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips", "hip", "pelvis", "root"),
    "left_hip": ("leftupleg", "lefthip", "lthigh", "lfemur", "leftthigh", "l_hip", "leftupperleg"),
    "right_hip": ("rightupleg", "righthip", "rthigh", "rfemur", "rightthigh", "r_hip", "rightupperleg"),
    "left_knee": ("leftleg", "leftknee", "lshin", "ltibia", "leftlowleg", "l_knee", "leftlowerleg"),
    "right_knee": ("rightleg", "rightknee", "rshin", "rtibia", "rightlowleg", "r_knee", "rightlowerleg"),
    "left_ankle": ("leftfoot", "leftankle", "lfoot", "l_ankle"),
    "right_ankle": ("rightfoot", "rightankle", "rfoot", "r_ankle"),
    "left_foot": ("lefttoebase", "lefttoe", "lefttoes", "ltoes", "l_toe"),
    "right_foot": ("righttoebase", "righttoe", "righttoes", "rtoes", "r_toe"),
    "neck": ("neck", "neck1", "lowerneck"),
    "head": ("head",),
    "left_collar": ("leftshoulder", "leftcollar", "lclavicle", "lcollar", "l_collar", "leftclavicle"),
    "right_collar": ("rightshoulder", "rightcollar", "rclavicle", "rcollar", "r_collar", "rightclavicle"),
    "left_shoulder": ("leftarm", "leftuparm", "lhumerus", "lshldr", "l_shoulder", "leftupperarm"),
    "right_shoulder": ("rightarm", "rightuparm", "rhumerus", "rshldr", "r_shoulder", "rightupperarm"),
    "left_elbow": ("leftforearm", "leftelbow", "lradius", "lforearm", "l_elbow", "leftlowerarm"),
    "right_elbow": ("rightforearm", "rightelbow", "rradius", "rforearm", "r_elbow", "rightlowerarm"),
    "left_wrist": ("lefthand", "leftwrist", "lwrist", "lhand", "l_wrist"),
    "right_wrist": ("righthand", "rightwrist", "rwrist", "rhand", "r_wrist"),
}
# Blender-style rigs name the side by a suffix ("thigh.L", "upper_arm_R", "hand.left");
# after the suffix is read, the rest of the name is matched against these (spine, neck,
# head and hips have no side and use NAME_MAP). Mixamo ("mixamorig:LeftUpLeg") and CMU
# names are covered by NAME_MAP once the namespace is dropped.
SIDED_MAP: dict[str, tuple[str, ...]] = {
    "hip": ("thigh", "upperleg", "upleg", "hip", "femur"),
    "knee": ("shin", "calf", "lowerleg", "leg", "knee", "tibia"),
    "ankle": ("foot", "ankle"),
    "foot": ("toe", "toes", "toebase", "ball"),
    "collar": ("shoulder", "clavicle", "collar"),
    "shoulder": ("upperarm", "uparm", "arm", "humerus"),
    "elbow": ("forearm", "lowerarm", "elbow"),
    "wrist": ("hand", "wrist"),
}
_SIDE_SUFFIX = re.compile(r"^(?P<body>.+?)[._\- ](?P<side>l|r|left|right)$")
_REQUIRED = ("pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
             "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
_HUMAN_HEIGHT_M = 1.6  # assumed standing height when no scale is given (features are scale-free)
CLIP_FRAMES = 196  # longest feature clip written (HumanML3D max motion length)
MIN_CLIP_FRAMES = 40


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    is_end: bool = False


@dataclass
class Bvh:
    joints: list[BvhJoint]
    frame_time: float
    motion: np.ndarray  # (T, total channels)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def names(self) -> list[str]:
        return [j.name for j in self.joints]


_CHANNEL = re.compile(r"^[XYZ](position|rotation)$", re.IGNORECASE)


def parse_bvh(text: str, source: str = "<bvh>") -> Bvh:
    """Parse BVH text; raises UserError naming the problem and the source."""
    tokens = text.split()
    joints: list[BvhJoint] = []
    stack: list[int] = []
    i = 0

    def fail(msg: str) -> UserError:
        return UserError(f"{source}: bad BVH: {msg}")

    if not tokens or tokens[0].upper() != "HIERARCHY":
        raise fail("does not start with HIERARCHY")
    i = 1
    pending: BvhJoint | None = None
    def arg(k: int, what: str) -> str:
        if i + k >= len(tokens) or tokens[i + k] in ("{", "}"):
            raise fail(f"{tokens[i]} needs {what}")
        return tokens[i + k]

    def current(keyword: str) -> BvhJoint:
        if not stack:
            raise fail(f"{keyword} outside a joint block (before ROOT?)")
        return joints[stack[-1]]

    while i < len(tokens) and tokens[i].upper() != "MOTION":
        tok = tokens[i]
        up = tok.upper()
        if up in ("ROOT", "JOINT"):
            if (up == "ROOT") != (not stack) or (up == "ROOT" and joints):
                raise fail("ROOT must come first and once; JOINT only inside it")
            pending = BvhJoint(arg(1, "a name"), stack[-1] if stack else -1, np.zeros(3))
            i += 2
        elif up == "END":  # End Site
            pending = BvhJoint(f"{current('End Site').name}_end", stack[-1], np.zeros(3), is_end=True)
            i += 2
        elif tok == "{":
            if pending is None:
                raise fail("'{' without a joint")
            joints.append(pending)
            stack.append(len(joints) - 1)
            pending = None
            i += 1
        elif tok == "}":
            if not stack:
                raise fail("unbalanced '}'")
            stack.pop()
            i += 1
        elif up == "OFFSET":
            joint = current("OFFSET")
            try:
                joint.offset = np.array([float(x) for x in tokens[i + 1 : i + 4]])
                if joint.offset.shape != (3,) or not np.isfinite(joint.offset).all():
                    raise ValueError
            except ValueError:
                raise fail(f"OFFSET of {joint.name} needs three finite numbers") from None
            i += 4
        elif up == "CHANNELS":
            joint = current("CHANNELS")
            try:
                n = int(arg(1, "a count"))
            except ValueError:
                raise fail(f"CHANNELS of {joint.name}: count {tokens[i + 1]!r} is not an integer") from None
            names = tokens[i + 2 : i + 2 + n]
            if not 0 <= n <= 6 or len(names) != n or not all(_CHANNEL.match(c) for c in names):
                raise fail(f"CHANNELS of {joint.name}: expected {n} channel names (0..6)")
            joint.channels = names
            i += 2 + n
        else:
            raise fail(f"unexpected token {tok!r}")
    if stack:
        raise fail("unclosed joint block")
    if i >= len(tokens) or not joints:
        raise fail("no MOTION section")
    try:
        j = i + 1
        if tokens[j].rstrip(":").upper() != "FRAMES":
            raise ValueError
        n_frames = int(tokens[j + 1])
        if tokens[j + 2].upper() != "FRAME" or tokens[j + 3].rstrip(":").upper() != "TIME":
            raise ValueError
        frame_time = float(tokens[j + 4])
        values = np.array(tokens[j + 5 :], dtype=np.float64)
    except (ValueError, IndexError):
        raise fail("expected 'Frames: N' and 'Frame Time: dt' then numbers") from None
    n_ch = sum(len(jt.channels) for jt in joints)
    if n_frames < 1 or frame_time <= 0 or values.size != n_frames * n_ch:
        raise fail(f"{values.size} motion values for {n_frames} frames x {n_ch} channels")
    if not np.isfinite(values).all() or not np.isfinite(frame_time):
        raise fail("NaN or inf among the motion values")
    return Bvh(joints, frame_time, values.reshape(n_frames, n_ch))


def read_bvh(path: Path | str) -> Bvh:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"BVH file not found: {path}")
    return parse_bvh(path.read_text(encoding="utf-8", errors="replace"), str(path))


def bvh_positions(bvh: Bvh) -> np.ndarray:
    """Global positions (T, J, 3) of every joint and End Site, in file units and axes."""
    t = bvh.motion.shape[0]
    nj = len(bvh.joints)
    rot = np.empty((t, nj, 3, 3))
    trans = np.empty((t, nj, 3))
    col = 0
    for k, jt in enumerate(bvh.joints):
        trans[:, k] = jt.offset
        rot_axes, rot_cols = "", []
        for ch in jt.channels:
            kind = ch.lower()
            axis = kind[0].upper()
            if kind.endswith("position"):
                trans[:, k, "XYZ".index(axis)] += bvh.motion[:, col]
            elif kind.endswith("rotation"):
                rot_axes += axis
                rot_cols.append(col)
            else:
                raise UserError(f"unknown BVH channel {ch!r} on joint {jt.name}")
            col += 1
        if rot_axes:
            if sorted(rot_axes) != ["X", "Y", "Z"]:
                raise UserError(f"joint {jt.name}: rotation channels {rot_axes} are not one each of X, Y, Z")
            rot[:, k] = euler_to_matrix(bvh.motion[:, rot_cols], rot_axes)
        else:
            rot[:, k] = np.eye(3)
    glob_r = np.empty_like(rot)
    pos = np.empty((t, nj, 3))
    for k, jt in enumerate(bvh.joints):  # parents come first in file order
        if jt.parent < 0:
            glob_r[:, k], pos[:, k] = rot[:, k], trans[:, k]
        else:
            p = jt.parent
            pos[:, k] = pos[:, p] + np.einsum("tij,tj->ti", glob_r[:, p], trans[:, k])
            glob_r[:, k] = glob_r[:, p] @ rot[:, k]
    return pos


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "", name.lower().split(":")[-1])


def _find(names: list[str], aliases: tuple[str, ...]) -> int | None:
    normed = [_norm(n) for n in names]
    for alias in aliases:
        if alias in normed:
            return normed.index(alias)
    return None


def _sided(name: str) -> tuple[str, str] | None:
    """("left" | "right", body) for a side-suffixed name ("upper_arm.L" -> left, upperarm)."""
    m = _SIDE_SUFFIX.match(name.lower().split(":")[-1].strip())
    if m is None:
        return None
    side = "left" if m.group("side") in ("l", "left") else "right"
    return side, re.sub(r"[^a-z0-9]", "", m.group("body"))


def _find_sided(names: list[str], smpl: str) -> int | None:
    """Second chance for a limb joint: side-suffixed rig names (Blender)."""
    side, _, part = smpl.partition("_")
    if side not in ("left", "right") or part not in SIDED_MAP:
        return None
    sided = [_sided(n) for n in names]
    for alias in SIDED_MAP[part]:
        for k, sb in enumerate(sided):
            if sb == (side, alias):
                return k
    return None


def rig_mapping(names: list[str]) -> dict[str, int | None]:
    """SMPL joint -> rig joint index (None: missing) for CMU, Mixamo and Blender naming."""
    found = {smpl: _find(names, NAME_MAP[smpl]) for smpl in NAME_MAP}
    taken = {k for k in found.values() if k is not None}
    for smpl, k in found.items():
        if k is None:
            k2 = _find_sided(names, smpl)
            if k2 is not None and k2 not in taken:
                found[smpl] = k2
                taken.add(k2)
    return found


def _along(poly: np.ndarray, frac: float) -> np.ndarray:
    """Point at arc-length fraction `frac` of polylines poly (T, K, 3)."""
    seg = np.linalg.norm(np.diff(poly, axis=1), axis=-1)  # (T, K-1)
    cum = np.concatenate([np.zeros((len(poly), 1)), np.cumsum(seg, axis=1)], axis=1)
    target = frac * cum[:, -1:]
    k = np.clip((cum[:, 1:] < target).sum(axis=1), 0, seg.shape[1] - 1)
    rows = np.arange(len(poly))
    a, b = poly[rows, k], poly[rows, k + 1]
    w = ((target[:, 0] - cum[rows, k]) / np.maximum(seg[rows, k], 1e-12))[:, None]
    return a + np.clip(w, 0, 1) * (b - a)


def retarget(bvh: Bvh, positions: np.ndarray) -> np.ndarray:
    """Map rig positions (T, J, 3) to the 22 SMPL joints (T, 22, 3), same units and axes."""
    names = bvh.names()
    found = rig_mapping(names)
    missing = [s for s in _REQUIRED if found[s] is None]
    if missing:
        raise UserError(f"unknown rig: it lacks joints for {', '.join(missing)} (rig joints: {', '.join(names[:30])}; "
                        "known namings: CMU/bvhtools, Mixamo, Blender '.L/.R')")
    out = np.full((len(positions), N_JOINTS, 3), np.nan)
    for smpl, k in found.items():
        if k is not None:
            out[:, JOINT_NAMES.index(smpl)] = positions[:, k]
    # spine: the rig's joints strictly between pelvis and neck
    chain, k = [], bvh.joints[found["neck"]].parent  # type: ignore[index]
    while k >= 0 and k != found["pelvis"]:
        chain.append(k)
        k = bvh.joints[k].parent
    chain.reverse()
    if len(chain) == 3:
        for smpl_j, rig_j in zip((3, 6, 9), chain):
            out[:, smpl_j] = positions[:, rig_j]
    else:
        poly = positions[:, [found["pelvis"], *chain, found["neck"]]]  # type: ignore[list-item]
        cum = np.cumsum(BONE_LENGTHS[[3, 6, 9, 12]])  # pelvis->spine1->spine2->spine3->neck
        for smpl_j, frac in zip((3, 6, 9), cum[:3] / cum[3]):
            out[:, smpl_j] = _along(poly, float(frac))
    up = out[:, 12] - out[:, 9]
    up_len = np.linalg.norm(up, axis=-1, keepdims=True)
    if np.isnan(out[:, 15]).any():  # head above the neck
        out[:, 15] = out[:, 12] + up / np.maximum(up_len, 1e-12) * up_len * (BONE_LENGTHS[15] / BONE_LENGTHS[12])
    for collar, shoulder in ((13, 16), (14, 17)):
        if np.isnan(out[:, collar]).any():
            out[:, collar] = 0.5 * (out[:, 9] + out[:, shoulder])
    across = out[:, 2] - out[:, 1]  # right hip - left hip
    for ankle, toe, knee in ((7, 10, 4), (8, 11, 5)):
        if np.isnan(out[:, toe]).any():
            shin = out[:, ankle] - out[:, knee]
            fwd = np.cross(across, shin)  # points ahead of the body for a standing leg
            fwd /= np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-12)
            out[:, toe] = out[:, ankle] + fwd * np.linalg.norm(shin, axis=-1, keepdims=True) * (
                BONE_LENGTHS[toe] / BONE_LENGTHS[ankle])
    return out


def to_y_up_metres(joints: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Rotate so the body's up axis (pelvis -> neck in frame 0) is +Y; scale to metres."""
    out, used = _y_up_scaled(joints, scale)
    return out


def _y_up_scaled(joints: np.ndarray, scale: float | None) -> tuple[np.ndarray, float]:
    """`to_y_up_metres` and the scale it used (guessed from the body height when None)."""
    up = joints[0, 12] - joints[0, 0]
    axis = int(np.argmax(np.abs(up)))
    out = joints.copy()
    if axis == 2:  # Z up: rotate -90 degrees about X, (x, y, z) -> (x, z, -y)
        out = np.stack([out[..., 0], out[..., 2], -out[..., 1]], axis=-1)
    elif axis == 0:  # X up: rotate 90 degrees about Z, (x, y, z) -> (-y, x, z)
        out = np.stack([-out[..., 1], out[..., 0], out[..., 2]], axis=-1)
    if out[0, 12, 1] < out[0, 0, 1]:  # upside down: rotate 180 degrees about X (never mirror)
        out = out * np.array([1.0, -1.0, -1.0])
    if scale is None:
        height = out[0, 15, 1] - min(out[0, 7, 1], out[0, 8, 1])
        scale = _HUMAN_HEIGHT_M * 0.93 / max(height, 1e-9)  # head joint sits ~7% under the crown
    return out * scale, float(scale)


def resample(joints: np.ndarray, src_fps: float, dst_fps: float = FPS) -> np.ndarray:
    """Linear resampling of positions (T, J, 3) from src_fps to dst_fps."""
    n = joints.shape[0]
    duration = (n - 1) / src_fps
    # tolerate frame times printed with few decimals (1/30 s as 0.0333333)
    t_new = np.arange(int(np.floor(duration * dst_fps + 1e-3)) + 1) / dst_fps
    x = t_new * src_fps
    i0 = np.clip(np.floor(x).astype(int), 0, n - 1)
    i1 = np.clip(i0 + 1, 0, n - 1)
    w = (x - i0)[:, None, None]
    return joints[i0] * (1 - w) + joints[i1] * w


def bvh_to_joints(path: Path | str, scale: float | None = None) -> np.ndarray:
    """BVH file -> 22-joint positions (T, 22, 3), metres, Y up, 20 fps."""
    return _bvh_to_joints(path, scale)[0]


def _bvh_to_joints(path: Path | str, scale: float | None) -> tuple[np.ndarray, float]:
    """(joints, scale used): the guessed scale is recorded with the import."""
    bvh = read_bvh(path)
    try:
        joints, used = _y_up_scaled(retarget(bvh, bvh_positions(bvh)), scale)
    except UserError as exc:  # rig and channel problems: say which file
        raise UserError(f"{path}: {exc}") from None
    return resample(joints, bvh.fps, FPS), used


@dataclass
class BvhImport:
    """What `import_bvh` did: clip ids written, and files skipped with their one-line reason."""

    ids: list[str]
    failed: dict[str, str] = field(default_factory=dict)


def import_bvh(src: Path | str, out_dir: Path | str, scale: float | None = None) -> BvhImport:
    """Convert a .bvh file or a directory of them (sorted) into HumanML3D layout.

    Each file is cut into consecutive clips of CLIP_FRAMES feature frames (a last piece
    shorter than 40 frames is dropped); ids are '<stem>_<k:03d>'. Writes new_joint_vecs/,
    new_joints/, Mean.npy/Std.npy (of these clips), test.txt listing every id, and
    bvh_import.json (sources with the scale used per file, fps, failures). No captions are
    written (there are none): open it with `load_dataset(out, "test",
    require_captions=False)`. A file that cannot be read or retargeted is skipped and named
    in `failed`; the import fails only when no file gives a clip. The dataset is built in
    a temporary folder beside `out_dir` and renamed into place: a failure leaves nothing.
    """
    from hmvlm_bench.motion.features import joints_to_features

    src, final = Path(src), Path(out_dir)
    files = sorted(src.glob("*.bvh")) if src.is_dir() else [src]
    if not files:
        raise UserError(f"no .bvh files in {src}")
    if final.exists() and not final.is_dir():
        raise UserError(f"--out {final} is a file, not a folder")
    if final.exists() and any(final.iterdir()):
        raise UserError(f"--out {final} exists and is not an empty folder (choose a new one)")
    clips: list[tuple[str, np.ndarray]] = []
    sources: dict[str, dict] = {}
    failed: dict[str, str] = {}
    for f in files:
        try:
            joints, used = _bvh_to_joints(f, scale)
            pieces = []
            for k, start in enumerate(range(0, max(len(joints) - 1, 1), CLIP_FRAMES)):
                window = joints[start : start + CLIP_FRAMES + 1]
                if len(window) - 1 >= MIN_CLIP_FRAMES:
                    pieces.append((f"{f.stem}_{k:03d}", joints_to_features(window).astype(np.float32)))
        except (UserError, ValueError, FloatingPointError) as exc:  # this file only
            msg = str(exc)
            failed[f.name] = msg if msg.startswith(str(f)) else f"{f}: {msg}"
            continue
        if not pieces:
            failed[f.name] = f"{f}: shorter than {MIN_CLIP_FRAMES} frames at {FPS} fps"
            continue
        clips += pieces
        sources[f.name] = {"frames_20fps": int(len(joints)), "scale": used,
                           "scale_from": "given" if scale is not None else "guessed (1.6 m tall)"}
    if not clips:
        raise UserError(f"no file in {src} gave a clip of at least {MIN_CLIP_FRAMES} frames: "
                        + "; ".join(failed.values()))
    # a new folder is built aside and renamed into place, so a failed write leaves nothing
    final.parent.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    out.chmod(0o755)  # mkdtemp makes it private; a dataset is meant to be shared
    try:
        _write_import(out, clips, sources, scale, failed)
        if final.exists():
            final.rmdir()  # empty (checked above)
        os.replace(out, final)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return BvhImport([cid for cid, _ in clips], failed)


def _write_import(out: Path, clips: list[tuple[str, np.ndarray]], sources: dict, scale: float | None,
                  failed: dict[str, str]) -> None:
    from hmvlm_bench.motion.features import features_to_joints
    from hmvlm_bench.motion.synthetic import _group_std

    (out / "new_joint_vecs").mkdir(parents=True, exist_ok=True)
    (out / "new_joints").mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    feats_all: list[np.ndarray] = []
    for cid, feats in clips:
        np.save(out / "new_joint_vecs" / f"{cid}.npy", feats)
        np.save(out / "new_joints" / f"{cid}.npy", features_to_joints(feats))
        ids.append(cid)
        feats_all.append(feats)
    allf = np.concatenate(feats_all).astype(np.float64)
    std = _group_std(allf)
    std[std < 1e-6] = 1.0
    np.save(out / "Mean.npy", allf.mean(axis=0).astype(np.float32))
    np.save(out / "Std.npy", std.astype(np.float32))
    (out / "test.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    (out / "bvh_import.json").write_text(json.dumps(
        {"sources": sources, "fps": FPS, "scale": scale if scale is not None else "per file (guessed)",
         "clip_frames": CLIP_FRAMES, "ids": len(ids), "failed": failed, "captions": False},
        indent=2, sort_keys=True) + "\n", encoding="utf-8")
