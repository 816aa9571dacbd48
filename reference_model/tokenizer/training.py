"""Train a tokenizer (body-part, pose, whole-body, whole-body-x5) on a HumanML3D-layout dataset.

Recipe after Mael-zys/T2M-GPT `train_vq.py`: random 64-frame windows of normalised
features (Mean.npy/Std.npy), AdamW betas (0.9, 0.99), linear warm-up, one step lr decay,
loss = smooth-L1 rec + 0.5 * ric-position term + 0.02 * commitment (base.py `losses`).

Determinism: one seed drives model init (torch global RNG, also used by the quantiser's
dead-code reset) and window sampling (a dedicated torch.Generator). Both RNG states go into
the checkpoint, so a resumed run continues exactly where it stopped.

Checkpoint `out_dir/checkpoint/`: `model.safetensors`, `optimizer.safetensors` (every
optimizer tensor as `state.{param_idx}.{name}` + the RNG states), `state.json` (step,
param_groups, config). Final output: `out_dir/tokenizer.safetensors` + `config.json`
(base.py `save`) and `out_dir/train_log.json`. No pickle anywhere.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hmvlm_bench.checkpoint_io import load_optimizer, optimizer_groups, optimizer_tensors, publish
from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import FEATURE_DIM, RIC
from reference_model.tokenizer.base import WEIGHTS_FILE, MotionTokenizer
from reference_model.tokenizer.config import TokenizerConfig

CKPT_DIR = "checkpoint"
STD_EPS = 1e-8


@dataclass
class MotionSplit:
    """Normalised feature arrays of one split, with the dataset statistics."""

    motions: list[np.ndarray]
    mean: np.ndarray
    std: np.ndarray
    ids: list[str]


def load_split(dataset_root: str | Path, split: str = "train", min_frames: int = 1,
               max_motions: int | None = None) -> MotionSplit:
    """Read `<root>/<split>.txt`, `new_joint_vecs/<id>.npy`, `Mean.npy`, `Std.npy`
    (HumanML3D layout, DESIGN.md sec. 4) and normalise. Motions shorter than
    `min_frames` are skipped."""
    root = Path(dataset_root)
    for need in (f"{split}.txt", "Mean.npy", "Std.npy", "new_joint_vecs"):
        if not (root / need).exists():
            raise UserError(f"dataset at {root} lacks {need} (HumanML3D layout expected)")
    mean = np.load(root / "Mean.npy").astype(np.float32)
    std = np.load(root / "Std.npy").astype(np.float32)
    if mean.shape != (FEATURE_DIM,) or std.shape != (FEATURE_DIM,):
        raise UserError(f"Mean.npy/Std.npy must have shape ({FEATURE_DIM},) in {root}")
    ids = [s.strip() for s in (root / f"{split}.txt").read_text().splitlines() if s.strip()]
    motions, kept = [], []
    for mid in ids:
        path = root / "new_joint_vecs" / f"{mid}.npy"
        if not path.is_file():
            continue
        arr = np.load(path).astype(np.float32)
        if arr.ndim != 2 or arr.shape[1] != FEATURE_DIM or arr.shape[0] < min_frames:
            continue
        motions.append((arr - mean) / (std + STD_EPS))
        kept.append(mid)
        if max_motions is not None and len(motions) >= max_motions:
            break
    if not motions:
        raise UserError(f"no usable motions (>= {min_frames} frames) in split '{split}' of {root}")
    return MotionSplit(motions, mean, std, kept)


def sample_windows(split: MotionSplit, batch: int, window: int, gen: torch.Generator) -> torch.Tensor:
    """(batch, window, 263): random motion, random start (uniform), from `gen` only."""
    idx = torch.randint(len(split.motions), (batch,), generator=gen).tolist()
    out = np.empty((batch, window, FEATURE_DIM), dtype=np.float32)
    for b, i in enumerate(idx):
        m = split.motions[i]
        start = int(torch.randint(m.shape[0] - window + 1, (1,), generator=gen))
        out[b] = m[start:start + window]
    return torch.from_numpy(out)


def build_tokenizer(config: TokenizerConfig) -> MotionTokenizer:
    """Instantiate the class registered for `config.variant` (imports the baseline lazily)."""
    from reference_model.tokenizer.base import tokenizer_class

    return tokenizer_class(config.variant)(config)


def lr_at(step: int, config: TokenizerConfig) -> float:
    """T2M-GPT schedule: linear warm-up lr*(i+1)/(warmup+1), then MultiStepLR at lr_decay_at."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / (config.warmup_steps + 1)
    return config.lr * (config.lr_gamma if step >= config.lr_decay_at else 1.0)


def _save_checkpoint(ckpt: Path, model: MotionTokenizer, opt: torch.optim.Optimizer, step: int,
                     gen: torch.Generator, elapsed: float) -> None:
    from safetensors.torch import save_file

    ckpt.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
              str(ckpt / "model.safetensors.tmp"))
    tensors = optimizer_tensors(opt)
    tensors["rng.sampler"] = gen.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    save_file(tensors, str(ckpt / "optimizer.safetensors.tmp"))
    state = {"step": step, "elapsed_s": elapsed, "param_groups": optimizer_groups(opt),
             "config": model.config.to_dict()}
    (ckpt / "state.json.tmp").write_text(json.dumps(state, indent=1))
    publish(ckpt, ("model.safetensors", "optimizer.safetensors", "state.json"))  # state.json last


def _load_checkpoint(ckpt: Path, model: MotionTokenizer, opt: torch.optim.Optimizer,
                     gen: torch.Generator) -> tuple[int, float]:
    from safetensors.torch import load_file

    state = json.loads((ckpt / "state.json").read_text())
    model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
    tensors = load_file(str(ckpt / "optimizer.safetensors"))
    load_optimizer(opt, tensors, state["param_groups"])
    gen.set_state(tensors["rng.sampler"])
    torch.set_rng_state(tensors["rng.torch"])
    return int(state["step"]), float(state.get("elapsed_s", 0.0))


@torch.no_grad()
def evaluate_reconstruction(model: MotionTokenizer, split: MotionSplit, max_motions: int = 256,
                            max_frames: int = 196) -> dict[str, float]:
    """Mean squared error of decode(encode(x)) on normalised features (per element), the
    same on de-normalised features, MPJPE (feature units, i.e. metres) of joints recovered
    with recover_from_ric (`hmvlm_bench.motion.features.features_to_joints`; includes root
    trajectory drift) and the root-relative joint error from the ric slice."""
    from hmvlm_bench.motion.features import features_to_joints

    model.eval()
    l = model.downsample
    se_n = se_raw = n_el = 0.0
    mpjpe: list[float] = []
    ric_err: list[float] = []
    for m in split.motions[:max_motions]:
        t = (min(m.shape[0], max_frames) // l) * l
        if t == 0:
            continue
        x = torch.from_numpy(m[:t])[None]
        y = model.decode(model.encode(x))[0].numpy()
        se_n += float(((y - m[:t]) ** 2).sum())
        raw_x = m[:t] * (split.std + STD_EPS) + split.mean
        raw_y = y * (split.std + STD_EPS) + split.mean
        se_raw += float(((raw_y - raw_x) ** 2).sum())
        n_el += y.size
        # root-relative, heading-canonical joint error (no root integration drift)
        ric_err.append(float(np.linalg.norm((raw_y - raw_x)[:, RIC].reshape(t, -1, 3), axis=-1).mean()))
        if model.downsample == 1:  # poses: each frame on its own (root at the XZ origin)
            raw_x, raw_y = raw_x[:, None], raw_y[:, None]
        jx, jy = features_to_joints(raw_x), features_to_joints(raw_y)
        mpjpe.append(float(np.linalg.norm(jx - jy, axis=-1).mean()))
    out = {"mse_norm": se_n / max(n_el, 1), "mse_raw": se_raw / max(n_el, 1)}
    if mpjpe:
        out["mpjpe"] = float(np.mean(mpjpe))
        out["mpjpe_root_relative"] = float(np.mean(ric_err))
    return out


def train_tokenizer(dataset_root: str | Path, out_dir: str | Path, preset: str = "mini",
                    variant: str = "body-part", steps: int | None = None, resume: bool = True,
                    progress: bool = True, seed: int = 0, checkpoint_every: int | None = None,
                    **overrides: Any) -> Path:
    """Train and save a tokenizer to `out_dir` (tokenizer.safetensors + config.json +
    train_log.json); returns `out_dir`. Resumes from `out_dir/checkpoint` when present and
    the config matches; a finished run with the same config returns at once."""
    from tqdm.auto import tqdm

    if steps is not None:
        overrides["steps"] = steps
    config = TokenizerConfig.for_preset(preset, variant, **overrides)
    out = Path(out_dir)
    log_path = out / "train_log.json"
    if resume and log_path.is_file() and (out / WEIGHTS_FILE).is_file():
        done = json.loads(log_path.read_text())
        if done.get("config") == config.to_dict() and done.get("seed") == seed:
            return out
    data = load_split(dataset_root, "train", min_frames=config.window)

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = build_tokenizer(config)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.99),
                            weight_decay=config.weight_decay)  # HMVLM / T2M-GPT optimiser
    ckpt = out / CKPT_DIR
    start, elapsed = 0, 0.0
    if resume and (ckpt / "state.json").is_file():
        saved = json.loads((ckpt / "state.json").read_text())
        if saved.get("config") != config.to_dict():
            raise UserError(f"checkpoint in {ckpt} was made with another config; use a new out_dir "
                            "or resume=False")
        start, elapsed = _load_checkpoint(ckpt, model, opt, gen)
    every = checkpoint_every or max(50, config.steps // 10)
    model.train()
    history: list[dict[str, float]] = []
    t0 = time.perf_counter()
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not progress,
               desc=f"tokenizer {variant}/{preset}", dynamic_ncols=True)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, config)
        batch = sample_windows(data, config.batch_size, config.window, gen)
        losses = model.losses(batch)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt.step()
        if step % 10 == 0 or step == config.steps - 1:
            row = {k: float(v.detach()) for k, v in losses.items()}
            history.append({"step": step, **row})
            bar.set_postfix(rec=f"{row['rec']:.4f}", ppl=f"{row['perplexity']:.1f}")
        if (step + 1) % every == 0 and step + 1 < config.steps:
            _save_checkpoint(ckpt, model, opt, step + 1, gen, elapsed + time.perf_counter() - t0)
    bar.close()
    elapsed += time.perf_counter() - t0
    _save_checkpoint(ckpt, model, opt, config.steps, gen, elapsed)
    model.eval()
    model.save(out)
    try:
        val = load_split(dataset_root, "val", min_frames=model.downsample, max_motions=256)
    except UserError:
        val = load_split(dataset_root, "train", min_frames=model.downsample, max_motions=256)
    metrics = evaluate_reconstruction(model, val)
    log = {"config": config.to_dict(), "seed": seed, "train_seconds": elapsed,
           "torch_threads": torch.get_num_threads(), "fingerprint": model.fingerprint(),
           "val": metrics, "history": history, "n_train_motions": len(data.motions)}
    log_path.write_text(json.dumps(log, indent=1))
    return out
