"""Deterministic software rendering of 22-joint poses: shaded capsules with a z-buffer.

Numpy only (no GL): each bone is a capsule drawn in screen space over its bounding box
(per-pixel distance to the projected segment, radius and depth interpolated along it, a
spherical bulge for depth and Lambert shading), composited with a z-buffer over a
checkered floor. Body parts have fixed colours so left and right are distinguishable.
Used to make image inputs for pose-from-image and GIF/MP4 previews of motions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import BODY_PARTS, N_JOINTS, PARENTS

# part colours (RGB 0..1): torso grey-blue, left limbs warm, right limbs cool
_PART_COLOURS = {
    "torso": (0.62, 0.66, 0.74), "left_arm": (0.90, 0.45, 0.25), "right_arm": (0.25, 0.55, 0.90),
    "left_leg": (0.85, 0.70, 0.20), "right_leg": (0.30, 0.75, 0.45),
}
_BONE_RADIUS = 0.045  # metres; torso bones thicker
_TORSO_RADIUS = 0.075
_HEAD_RADIUS = 0.10
_LIGHT = np.array([-0.4, 0.6, 0.7]) / np.linalg.norm([-0.4, 0.6, 0.7])  # camera frame (x right, y up, z to viewer)
_BACKGROUND = np.array([0.93, 0.93, 0.95])


@dataclass(frozen=True)
class Camera:
    """Orbit camera looking at `target` (default: the pelvis) from yaw/pitch (radians).

    yaw 0 looks at the body's front when it faces +Z (camera on +Z); pitch > 0 is above.
    """

    yaw: float = 0.0
    pitch: float = 0.15
    distance: float = 2.6  # metres from target
    fov: float = 50.0  # vertical field of view, degrees
    target: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        if not (self.distance > 0 and 1.0 <= self.fov <= 170.0 and abs(self.pitch) < math.pi / 2):
            raise UserError(f"bad camera {self}: need distance > 0, fov in [1, 170], |pitch| < pi/2")

    def basis(self) -> tuple[np.ndarray, np.ndarray]:
        """(position (3,), rotation (3, 3) whose rows are camera right, up, forward)."""
        tgt = np.zeros(3) if self.target is None else np.asarray(self.target, np.float64)
        cp = math.cos(self.pitch)
        pos = tgt + self.distance * np.array([math.sin(self.yaw) * cp, math.sin(self.pitch), math.cos(self.yaw) * cp])
        fwd = (tgt - pos) / np.linalg.norm(tgt - pos)
        right = np.cross(fwd, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, fwd)
        return pos, np.stack([right, up, fwd])

    def focal(self, size: int) -> float:
        return 0.5 * size / math.tan(math.radians(self.fov) / 2)

    def project(self, points: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
        """World points (..., 3) -> pixel coordinates (..., 2) as (x=column, y=row), depth (...)."""
        pos, rot = self.basis()
        cam = (np.asarray(points, np.float64) - pos) @ rot.T
        z = np.maximum(cam[..., 2], 1e-6)
        f = self.focal(size)
        uv = np.stack([size / 2 + f * cam[..., 0] / z, size / 2 - f * cam[..., 1] / z], axis=-1)
        return uv, cam[..., 2]


def sample_camera(rng: np.random.Generator) -> Camera:
    """A random viewpoint for training images: any yaw, mild pitch, 2.2-3.4 m, fov 40-60."""
    return Camera(
        yaw=float(rng.uniform(-math.pi, math.pi)),
        pitch=float(rng.uniform(-0.1, 0.45)),
        distance=float(rng.uniform(2.2, 3.4)),
        fov=float(rng.uniform(40.0, 60.0)),
    )


def _joint_colours() -> np.ndarray:
    out = np.zeros((N_JOINTS, 3))
    for part, joints in BODY_PARTS.items():
        out[list(joints)] = _PART_COLOURS[part]
    return out


_COLOURS = _joint_colours()
_TORSO = set(BODY_PARTS["torso"])


def _floor(cam: Camera, size: int, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Background image and z-buffer with a checkered floor plane y = height (0.5 m
    squares, fading out by 40 m). Float32 throughout: this is the costliest step."""
    pos, rot = cam.basis()
    pos, rot = pos.astype(np.float32), rot.astype(np.float32)
    xs = ((np.arange(size, dtype=np.float32) + 0.5 - size / 2) / np.float32(cam.focal(size)))
    col, row = xs[None, :], -xs[:, None]  # ray = right * col + up * row + forward
    d = [rot[0, k] * col + rot[1, k] * row + rot[2, k] for k in range(3)]  # (size, size) each
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (np.float32(height) - pos[1]) / d[1]
    hit = (s > 0) & (s < 40)
    checker = (np.floor((pos[0] + s * d[0]) * 2) + np.floor((pos[2] + s * d[2]) * 2)) % 2
    fade = np.where(hit, 1 - s / 40, 0).astype(np.float32)[..., None]
    bg = _BACKGROUND.astype(np.float32)
    img = (0.70 + 0.10 * (1 - checker))[..., None] * fade + bg * (1 - fade)
    zbuf = np.where(hit, s, np.float32(np.inf))
    return img, zbuf


def _capsule(img: np.ndarray, zbuf: np.ndarray, a: np.ndarray, b: np.ndarray, ra: float, rb: float,
             colour: np.ndarray, f: float) -> None:
    size = img.shape[0]
    lo = np.floor(np.minimum(a[:2], b[:2]) - max(ra, rb)).astype(int)
    hi = np.ceil(np.maximum(a[:2], b[:2]) + max(ra, rb)).astype(int) + 1
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    x1, y1 = min(hi[0], size), min(hi[1], size)
    if x0 >= x1 or y0 >= y1:
        return
    px = np.arange(x0, x1) + 0.5
    py = np.arange(y0, y1) + 0.5
    wx = px[None, :] - a[0]
    wy = py[:, None] - a[1]
    sx, sy = b[0] - a[0], b[1] - a[1]
    seg2 = sx * sx + sy * sy
    t = np.clip((wx * sx + wy * sy) / seg2, 0.0, 1.0) if seg2 > 1e-12 else np.zeros((len(py), len(px)))
    dx, dy = wx - t * sx, wy - t * sy
    d2 = dx * dx + dy * dy
    r = ra + t * (rb - ra)
    inside = d2 < r * r
    if not inside.any():
        return
    nz = np.sqrt(np.clip(1 - d2 / np.maximum(r * r, 1e-12), 0, 1))
    z_axis = a[2] + t * (b[2] - a[2])
    depth = z_axis - nz * r * z_axis / f  # the bulge toward the camera, in metres
    region = zbuf[y0:y1, x0:x1]
    win = inside & (depth < region)
    if not win.any():
        return
    rr = np.maximum(r, 1e-6)
    lam = np.clip((dx / rr) * _LIGHT[0] + (-dy / rr) * _LIGHT[1] + nz * _LIGHT[2], 0, 1)
    shade = (0.35 + 0.65 * lam)[..., None] * colour
    img[y0:y1, x0:x1][win] = shade[win]
    region[win] = depth[win]


def render_pose(
    joints: np.ndarray,
    camera: Camera | None = None,
    size: int = 224,
    floor: bool = True,
) -> tuple[np.ndarray, np.ndarray, Camera]:
    """Render one pose (22, 3) in metres, Y up.

    Returns (image uint8 (size, size, 3), keypoints2d (22, 2) pixel (x, y) of every
    joint, the camera used, with `target` filled in: the pelvis when it was None).
    Deterministic: same input, same bytes.
    """
    j = np.asarray(joints, np.float64)
    if j.shape != (N_JOINTS, 3) or not np.isfinite(j).all():
        raise UserError(f"render_pose needs finite joints of shape (22, 3), got {j.shape}")
    cam = camera or Camera()
    if cam.target is None:
        cam = replace(cam, target=tuple(float(x) for x in j[0]))
    if floor:
        img, zbuf = _floor(cam, size, float(j[:, 1].min()) - 0.02)
    else:
        img = np.broadcast_to(_BACKGROUND.astype(np.float32), (size, size, 3)).copy()
        zbuf = np.full((size, size), np.inf, dtype=np.float32)
    uv, depth = cam.project(j, size)
    f = cam.focal(size)
    pts = np.concatenate([uv, depth[:, None]], axis=1)
    for k in range(1, N_JOINTS):
        p = PARENTS[k]
        rad = _TORSO_RADIUS if (k in _TORSO and p in _TORSO and k not in (13, 14, 15)) else _BONE_RADIUS
        if depth[k] <= 0.05 or depth[p] <= 0.05:
            continue  # behind the camera
        _capsule(img, zbuf, pts[p], pts[k], rad * f / depth[p], rad * f / depth[k], _COLOURS[k], f)
    if depth[15] > 0.05:
        head_r = _HEAD_RADIUS * f / depth[15]
        _capsule(img, zbuf, pts[15], pts[15], head_r, head_r, _COLOURS[15], f)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), uv, cam


def render_motion_frames(joints: np.ndarray, size: int = 256, camera: Camera | None = None) -> np.ndarray:
    """Frames (T, size, size, 3) of a motion (T, 22, 3) from one fixed camera aimed at the
    middle of the root path, far enough back to keep the whole path in view."""
    j = np.asarray(joints, np.float64)
    if j.ndim != 3 or j.shape[1:] != (N_JOINTS, 3):
        raise UserError(f"motion joints must be (T, 22, 3), got {j.shape}")
    lo, hi = j.reshape(-1, 3).min(0), j.reshape(-1, 3).max(0)
    centre = 0.5 * (lo + hi)
    extent = float(np.linalg.norm(hi - lo))
    cam = camera or Camera(yaw=0.5, pitch=0.3, distance=max(3.0, 1.6 * extent))
    if cam.target is None:
        cam = replace(cam, target=tuple(float(x) for x in centre))
    return np.stack([render_pose(frame, cam, size=size)[0] for frame in j])


def render_motion_gif(joints: np.ndarray, path: Path | str, fps: int = 20, size: int = 256) -> Path:
    """Write an animated GIF (or MP4 when `path` ends in .mp4 and imageio-ffmpeg works)."""
    import imageio.v3 as iio

    path = Path(path)
    frames = render_motion_frames(joints, size=size)
    if path.suffix.lower() == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise UserError("MP4 needs imageio-ffmpeg (pip install imageio-ffmpeg); write a .gif instead") from None
        iio.imwrite(path, frames, fps=fps, codec="libx264", macro_block_size=1)
    else:
        iio.imwrite(path, frames, duration=1000.0 / fps, loop=0)
    return path
