"""`hmvlm-bench render`: real vs generated motion, side by side, for a few t2m prompts.

Result files keep metrics and per-sample distances, not motions (a 263-d motion per
sample per model would dwarf them). So rendering regenerates: for each model with a
`t2m` result in the results folder, the first `n` prompts that result scored are
generated again (same model args, same length as the real motion, a fixed seed) and
drawn next to the real motion with the shaded-capsule renderer of the pose task.
Files go to `<results>/renders/<model>__<sample>.gif` with a `.txt` caption (the prompt);
`hmvlm-bench report --format html` embeds everything found there.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hmvlm_bench.errors import UserError

TASK = "t2m"
PANEL = 160  # px per panel: two panels per GIF, a dozen GIFs inlined in one HTML page
MAX_FRAMES = 48  # frames kept per GIF (evenly spaced): the page stays a few MB
FPS_OUT = 8


def side_by_side(real: np.ndarray, generated: np.ndarray, right_label: str, size: int = PANEL) -> np.ndarray:
    """Frames (F, size, 2*size+4, 3): real joints (T, 22, 3) left, generated right."""
    from hmvlm_bench.motion.render import Camera, render_pose

    n = max(len(real), len(generated))
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_FRAMES)).round().astype(int))
    # the shorter motion holds its last pose (generation is in 4-frame units)
    pick = [np.asarray(m)[np.minimum(keep, len(m) - 1)] for m in (real, generated)]
    # the camera follows the pelvis (target None): a body walking 5 m stays a body, not a
    # speck; the floor's checkerboard shows the travel
    cam = Camera(yaw=0.6, pitch=0.3, distance=3.4)
    left, right = (np.stack([render_pose(f, cam, size=size)[0] for f in p]) for p in pick)
    gap = np.full((len(keep), size, 4, 3), 255, np.uint8)
    frames = np.concatenate([left, gap, right], axis=2)
    return np.stack([_with_labels(f, size, right_label) for f in frames])


def _with_labels(frame: np.ndarray, size: int, right_label: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    img = Image.fromarray(np.ascontiguousarray(frame))
    draw = ImageDraw.Draw(img)
    draw.text((5, 4), "real", fill=(20, 20, 20))
    draw.text((size + 9, 4), right_label, fill=(20, 20, 20))
    return np.asarray(img)


def write_gif(frames: np.ndarray, path: Path, fps: int = FPS_OUT) -> Path:
    import imageio.v3 as iio

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.gif")
    iio.imwrite(tmp, frames, duration=1000.0 / fps, loop=0)
    tmp.replace(path)
    return path


def render_results(results_dir: Path, models: Sequence[str] | None, n: int, regs: Any, artifacts: Any,
                   data_paths: dict[str, Path], seed: int = 0, progress: bool = True) -> list[Path]:
    """Render `n` prompts per model; returns the GIFs written."""
    from hmvlm_bench.context import DataCatalog, ModelContext
    from hmvlm_bench.contracts import Capability, MotionRequest
    from hmvlm_bench.motion.features import features_to_joints
    from hmvlm_bench.presets import get_preset
    from hmvlm_bench.progress import sample_bar
    from hmvlm_bench.results import iter_results, load_samples
    from hmvlm_bench.seeding import derive_seed

    if n < 1:
        raise UserError(f"--n must be >= 1, got {n}")
    found = {r.model: r for r in iter_results(results_dir) if r.task == TASK}
    if not found:
        raise UserError(f"no '{TASK}' results in {results_dir}: run `hmvlm-bench run --tasks {TASK}` first "
                        "(render shows the prompts t2m scored)")
    names = list(models) if models else sorted(found)
    missing = [m for m in names if m not in found]
    if missing:
        raise UserError(f"no '{TASK}' result for model(s) {', '.join(missing)} in {results_dir} "
                        f"(have: {', '.join(sorted(found))})")
    written: list[Path] = []
    for name in names:
        res = found[name]
        cls = regs.models.get(name)
        if Capability.GENERATE_MOTION not in cls.capabilities or getattr(cls, "oracle", False):
            continue  # the ground-truth row *is* the left panel
        preset = get_preset(res.preset)
        catalog = DataCatalog(preset, artifacts, dict(data_paths))
        ds_name = str(res.dataset.get("name") or preset.dataset)
        ds = catalog.get(ds_name, split=str(res.dataset.get("split", "test")))
        index = {sid: i for i, sid in enumerate(ds.ids)}
        picks = [s for s in load_samples(results_dir, name, TASK) if not s.get("failed") and s.get("id") in index][:n]
        if not picks:
            continue
        model_args = {k: str(v) for k, v in (res.config.get("model", {}).get("args") or {}).items()}
        ctx = ModelContext(preset=preset, data=catalog, artifacts=artifacts, model_args=model_args,
                           device=preset.device, seed=seed, progress=progress)
        model = cls(ctx)
        try:
            reqs = []
            for s in picks:
                item = ds[index[s["id"]]]
                text = s.get("caption") or (item.captions[0].text if item.captions else "")
                reqs.append(MotionRequest(sample_id=item.id, dataset=ds_name, text=text, length=item.length,
                                          seed=derive_seed(seed, "render", item.id)))
            with sample_bar(len(reqs), f"{name} render", enabled=progress):
                preds = model.generate_motion(reqs)
        finally:
            model.close()
        for req, pred in zip(reqs, preds):
            gen = np.asarray(getattr(pred, "value", pred), np.float64)
            real = ds[index[req.sample_id]].features
            frames = side_by_side(features_to_joints(np.asarray(real, np.float64)), features_to_joints(gen), name)
            stem = f"{name}__{req.sample_id}".replace("/", "_").replace("#", "_")
            gif = write_gif(frames, results_dir / "renders" / f"{stem}.gif")
            gif.with_suffix(".txt").write_text(
                f"{name}: \u201c{req.text}\u201d (left real, right generated; {req.length} frames)\n", encoding="utf-8")
            written.append(gif)
    return written
