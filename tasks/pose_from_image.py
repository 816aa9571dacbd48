"""3D pose from a single image (ChatPose protocol: MPJPE and PA-MPJPE in mm).

`pose_from_image`: held-out poses are frames of test motions (one frame per motion,
index drawn with derive_seed(seed, 'frame', id)), converted to joints, centred on the
pelvis and rendered (224 x 224) with a per-sample camera (sample_camera seeded by
derive_seed(seed, 'camera', id)). The target is in the camera's heading frame (Y up,
camera on +Z: see `camera_heading_frame`), as pose datasets give camera-frame joints.
The model answers 22 SMPL joints (metres); we report
MPJPE (pelvis-aligned), PA-MPJPE (similarity Procrustes) and PCK@150mm, means over
samples with percentile-bootstrap 95% CIs.

`pose_from_image_h36m` / `pose_from_image_3dpw`: the same on a Human3.6M / 3DPW evaluation
file (`--data h36m=FILE.npz`, `--data 3dpw=FILE.npz`; images under the file's folder or
`image_root`), read by `tasks.pose_formats` and scored on the 14 LSP joints after
mid-hip centring. Hidden from `--tasks all` (they need licensed data).

Failures: a prediction that is not (22, 3) is a model bug (ModelOutputError); NaN/inf
marks the sample failed (see hmvlm_bench/taskkit.py).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from hmvlm_bench import taskkit as kit
from hmvlm_bench.contracts import Capability, MetricSpec, PoseRequest, Task, TaskResult, stable_hash
from hmvlm_bench.errors import UserError
from hmvlm_bench.seeding import derive_seed
from tasks.pose_formats import LAYOUTS

POSE_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("mpjpe", False, "MPJPE", "mm", ".1f"),
    MetricSpec("pa_mpjpe", False, "PA-MPJPE", "mm", ".1f"),
    MetricSpec("pck", True, "PCK@150mm", format=".3f"),
    MetricSpec("failure_rate", False, "Failed samples", format=".1%"),
)
PELVIS = 0  # SMPL-22 root joint


def _check_pose(value: Any, sample_id: str) -> tuple[np.ndarray | None, str | None]:
    arr = kit.as_array(value, f"sample {sample_id}")
    if arr.shape != (22, 3):
        raise kit.ModelOutputError(f"sample {sample_id}: pose has shape {arr.shape}, expected (22, 3)")
    if not np.isfinite(arr).all():
        return None, "non-finite joints"
    return arr, None


def _score(task: Task, ctx, ids: list[str], preds: list[Any], gts: np.ndarray, to_eval, hips_centre,
           max_rate: float) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """Common scoring: `to_eval` maps a (22, 3) prediction to the GT's joint layout,
    `hips_centre` centres (N, J, 3) joints (None: already root-relative via `mpjpe`)."""
    from hmvlm_bench.metrics.pose import PCK_THRESHOLD_MM, mpjpe, pa_mpjpe, pck

    failed: dict[str, str] = {}
    kept_pred, kept = [], []
    for i, (sid, p) in enumerate(zip(ids, preds)):
        arr, why = _check_pose(kit.pred_value(p), sid)
        if why is not None:
            failed[sid] = why
            continue
        kept_pred.append(to_eval(arr))
        kept.append(i)
    kit.enforce_failure_budget(task.name, failed, len(ids), max_rate)
    pred = np.stack(kept_pred)
    gt = gts[kept]
    if hips_centre is not None:
        pred, gt = hips_centre(pred), hips_centre(gt)
        align = False
    else:
        align = True
    per = {
        "mpjpe": mpjpe(pred, gt, root_align=align, root=PELVIS),
        "pa_mpjpe": pa_mpjpe(pred, gt),
        "pck": pck(pred, gt, PCK_THRESHOLD_MM, root_align=align, root=PELVIS),
    }
    seed = derive_seed(ctx.seed, task.name, "bootstrap")
    metrics: dict[str, Any] = {k: kit.bootstrap_metric(v, k == "pck", seed) for k, v in per.items()}
    metrics["failure_rate"] = kit.point_metric(len(failed) / len(ids), False, len(ids))
    samples = []
    pos = {i: k for k, i in enumerate(kept)}
    for i, sid in enumerate(ids):
        row: dict[str, Any] = {"id": sid, "failed": failed.get(sid)}
        if i in pos:
            row.update({k: kit.rounded(v[pos[i]], 3) for k, v in per.items()})
        samples.append(row)
    return metrics, samples, failed


class PoseFromImageTask(kit.SplitTask):
    name: ClassVar[str] = "pose_from_image"
    version: ClassVar[int] = 1
    requires: ClassVar[Capability] = Capability.ESTIMATE_POSE
    metrics: ClassVar[tuple[MetricSpec, ...]] = POSE_METRICS
    main_metric: ClassVar[str] = "pa_mpjpe"
    description: ClassVar[str] = "3D pose from rendered test-motion frames (MPJPE, PA-MPJPE, PCK in mm)"
    display_name: ClassVar[str] = "Pose from image"
    dataset_name: ClassVar[str] = "synthetic"
    split: ClassVar[str] = "test"

    Options: ClassVar[type[kit.TaskOptions]] = kit.FailureBudgetOptions

    def _settings(self, ctx) -> dict[str, Any]:
        o: kit.FailureBudgetOptions = kit.read_options(self, ctx)
        return {**self.split_settings(ctx, o),
                "frame_choice": "derive_seed(seed, 'frame', id) % T", "camera": "sample_camera(derive_seed(seed, 'camera', id))"}

    def evaluate(self, model, ctx) -> TaskResult:
        from hmvlm_bench.motion.features import features_to_joints

        s = self._settings(ctx)
        ds = self._dataset(ctx, s)
        idx = kit.select_subset(ds.ids, s["limit"])
        reqs, gts, frames = [], [], []
        for i in ctx.track(idx, f"{self.name}: render", total=len(idx)):
            item = ds[i]
            frame = derive_seed(ctx.seed, "frame", item.id) % item.length
            joints = features_to_joints(item.features[frame: frame + 1])[0].astype(np.float64)
            joints = joints - joints[PELVIS]
            image, yaw = render_image(joints, derive_seed(ctx.seed, "camera", item.id))
            joints = camera_heading_frame(joints, yaw)
            reqs.append(PoseRequest(sample_id=item.id, dataset=s["dataset"], image=image,
                                    seed=derive_seed(ctx.seed, item.id), target=joints.astype(np.float32)))
            gts.append(joints)
            frames.append(int(frame))
        preds = kit.call_model(model.estimate_pose, reqs, ctx, self.name)
        metrics, samples, failed = _score(self, ctx, [r.sample_id for r in reqs], preds, np.stack(gts),
                                          lambda a: a, None, s["max_failure_rate"])
        for row, f in zip(samples, frames):
            row["frame"] = f
        extra = {"image_shape": list(reqs[0].image.shape), "n_failed": len(failed),
                 "alignment": "pelvis (joint 0) for MPJPE/PCK; similarity Procrustes for PA-MPJPE",
                 "ci": "percentile bootstrap over samples (2000 resamples)"}
        return TaskResult(metrics=metrics, n_samples=len(reqs), samples=samples, extra=extra,
                          dataset=kit.dataset_info(ds, s["dataset"], self.split, len(reqs), s["limit"]))


def render_image(joints: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """Render root-relative joints (22, 3) with a camera drawn from `seed`; returns the
    image and the camera yaw."""
    from hmvlm_bench.motion.render import render_pose, sample_camera

    camera = sample_camera(np.random.default_rng(seed))
    image, _, cam = render_pose(joints, camera)
    return np.asarray(image), float(cam.yaw)


def camera_heading_frame(joints: np.ndarray, yaw: float) -> np.ndarray:
    """Rotate world joints about Y by -yaw so the camera sits on +Z: the answer a model can
    read from the image (a random camera yaw makes world heading unobservable). Y stays up;
    the mild camera pitch is not removed."""
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])  # R_y(-yaw)
    return joints @ rot.T


@dataclass(frozen=True)
class PoseFileOptions(kit.FailureBudgetOptions):
    """Options of the evaluation-file pose tasks (`--task-option pose_from_image_h36m.NAME=VALUE`)."""

    layout: str | None = kit.opt(None, "joint layout of the file (default: stored in the file, else guessed)",
                                 choices=LAYOUTS)
    unit: str | None = kit.opt(None, "unit of the file's joints (default: guessed from the skeleton size)",
                               choices=("m", "mm"))
    image_root: str | None = kit.opt(None, "folder the file's image names are relative to (default: the "
                                     "file's folder)")


class PoseFileTask(kit.SettingsTask):
    """Pose estimation on a Human3.6M / 3DPW evaluation file (ChatPose protocol)."""

    name: ClassVar[str] = "pose_from_image_h36m"
    version: ClassVar[int] = 1
    requires: ClassVar[Capability] = Capability.ESTIMATE_POSE
    metrics: ClassVar[tuple[MetricSpec, ...]] = POSE_METRICS
    main_metric: ClassVar[str] = "pa_mpjpe"
    description: ClassVar[str] = "3D pose on a Human3.6M evaluation file (ChatPose protocol, 14 LSP joints)"
    display_name: ClassVar[str] = "Pose (Human3.6M)"
    dataset_name: ClassVar[str] = "h36m"
    unhashed_settings: ClassVar[tuple[str, ...]] = ("image_root",)  # where images are, not what they are

    def _path(self, ctx) -> Path:
        path = ctx.data.paths.get(self.dataset_name)
        if path is None:
            raise UserError(f"{self.name} needs the evaluation file: pass --data {self.dataset_name}=FILE.npz")
        return Path(path)

    def preflight(self, ctx) -> list[str]:
        return [] if self.dataset_name in ctx.data.paths else [f"--data {self.dataset_name}=FILE.npz"]

    Options: ClassVar[type[kit.TaskOptions]] = PoseFileOptions

    def _settings(self, ctx) -> dict[str, Any]:
        o: PoseFileOptions = kit.read_options(self, ctx)
        return {"dataset": self.dataset_name, "limit": ctx.eval_limit,
                "layout": o.layout, "unit": o.unit, "image_root": o.image_root,
                "max_failure_rate": o.max_failure_rate,
                "joints": "14 LSP joints, mid-hip centred (SPIN/ChatPose)"}

    def _file_hash(self, ctx) -> str:
        from tasks.pose_formats import resolve_eval_file

        path = resolve_eval_file(self._path(ctx))
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()[:16]

    def task_hash(self, ctx) -> str:
        return stable_hash({"config": self.config(ctx), "data": self._file_hash(ctx)})

    def evaluate(self, model, ctx) -> TaskResult:
        from tasks.pose_formats import LSP_FROM_SMPL22, as_smpl22, centre_on_hips, load_pose_eval_file

        s = self._settings(ctx)
        data = load_pose_eval_file(self._path(ctx), s["image_root"], s["layout"], s["unit"])
        ids = [f"{i}:{n}" for i, n in enumerate(data.imgnames)]
        idx = kit.select_subset(ids, s["limit"])
        lsp = data.layout == "lsp14"
        reqs = [PoseRequest(sample_id=ids[i], dataset=self.dataset_name, image=data.load_image(i),
                            seed=derive_seed(ctx.seed, ids[i]),
                            target=(as_smpl22(data.joints[i]) if lsp else data.joints[i]).astype(np.float32))
                for i in ctx.track(idx, f"{self.name}: images", total=len(idx))]
        preds = kit.call_model(model.estimate_pose, reqs, ctx, self.name)
        metrics, samples, failed = _score(
            self, ctx, [r.sample_id for r in reqs], preds, data.joints[idx],
            (lambda a: a[list(LSP_FROM_SMPL22)]) if lsp else (lambda a: a),
            lambda j: centre_on_hips(j, data.layout), s["max_failure_rate"])
        extra = {"layout": data.layout, "source_key": data.source_key, "n_failed": len(failed),
                 "note": ("SMPL-22 predictions mapped to 14 LSP joints (SMPL neck/head stand in for LSP "
                          "neck/head top): not directly comparable with ChatPose's vertex-regressed joints")}
        return TaskResult(metrics=metrics, n_samples=len(reqs), samples=samples, extra=extra,
                          dataset={"name": self.dataset_name, "hash": self._file_hash(ctx), "split": "eval",
                                   "n": len(reqs), "n_split": len(data), "limit": s["limit"]},
                          evaluator={"name": "chatpose-protocol", "fingerprint": "lsp14-midhip-v1"})


class PoseH36MTask(PoseFileTask):
    name = "pose_from_image_h36m"
    dataset_name = "h36m"


class Pose3DPWTask(PoseFileTask):
    name = "pose_from_image_3dpw"
    dataset_name = "3dpw"
    description = "3D pose on a 3DPW evaluation file (ChatPose protocol, 14 LSP joints)"
    display_name = "Pose (3DPW)"
