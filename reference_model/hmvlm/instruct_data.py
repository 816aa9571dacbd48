"""Multi-task instruction data for HMVLM: t2m (3 prompt variants), m2t, pose, general.

Everything is drawn from the *train* split of a HumanML3D-layout dataset with one seeded
generator, so the same (config, data, seed) gives the same sample list. Motions are cropped
to `[min_motion_frames, max_motion_frames]` frames (a multiple of the tokenizer's l = 4) and
tokenized crop by crop, so every answer's tokens are exactly the crop's codes.

General samples: prompts from `templates.general_prompts` answered by the *base* model's own
greedy decoding (HMVLM mixes general dialogue so L_gat can route it to the zero expert;
the base model's answers make "stay the base model" the training target). They are
generated once per base model and cached as an artifact (`general_answers`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from hmvlm_bench.errors import UserError
from reference_model.hmvlm import templates as T
from reference_model.hmvlm.config import HMVLMConfig
from reference_model.hmvlm.vocab import IMAGE_TOKEN
from reference_model.tokenizer.tokens import codes_to_text

STD_EPS = 1e-8


@dataclass
class Sample:
    task: str  # t2m | t2m_first | t2m_last | m2t | pose | general
    user: str  # the user message (also the gate's input text)
    answer: str
    is_general: bool = False
    image: int | None = None  # row of InstructData.pixels for pose samples


@dataclass
class PoseSet:
    """Rendered training frames: images, pose codes (N, 5), body-frame root-relative joints
    (N, 22, 3) and the render cameras' yaw (N,)."""

    pixels: torch.Tensor
    codes: np.ndarray
    joints: np.ndarray
    yaw: np.ndarray


@dataclass
class InstructData:
    samples: list[Sample]
    pixels: torch.Tensor | None = None
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.samples:
            out[s.task] = out.get(s.task, 0) + 1
        return out


# ------------------------------------------------------------------------------- helpers
def image_placeholder(cfg: HMVLMConfig) -> str:
    return IMAGE_TOKEN * cfg.image_patches


def normalise(feats: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (feats - mean) / (std + STD_EPS)


def frame_joints(frame_feats: np.ndarray) -> np.ndarray:
    """One raw 263-d frame -> its 22 joints, root-relative, in the body's facing frame
    (what a decoded pose token means: features_to_joints of a single frame)."""
    from hmvlm_bench.motion.features import features_to_joints

    j = features_to_joints(np.asarray(frame_feats, dtype=np.float32)[None])[0]
    return (j - j[:1]).astype(np.float32)


def _load_train(root: Path, limit: int | None = None) -> Any:
    from hmvlm_bench.motion.dataset import load_dataset

    return load_dataset(root, split="train", limit=limit)


def build_pose_set(dataset_root: Path, pose_tok: Any, n: int, image_size: int, seed: int) -> PoseSet:
    """Render `n` random train frames (random camera) and tokenize their poses."""
    try:
        from hmvlm_bench.motion.render import render_pose, sample_camera
    except ImportError as exc:  # the renderer is optional for the motion-only variants
        raise UserError(f"pose samples need hmvlm_bench.motion.render: {exc}") from exc
    from reference_model.hmvlm.vision import preprocess_images

    ds = _load_train(dataset_root)
    rng = np.random.default_rng([seed, 17])
    images, frames, joints, yaws = [], [], [], []
    for _ in range(n):
        i = int(rng.integers(len(ds)))
        feats = ds[i].features
        frame = feats[int(rng.integers(feats.shape[0]))]
        j = frame_joints(frame)
        image, _, cam = render_pose(j, sample_camera(rng))
        images.append(np.asarray(image))
        yaws.append(float(cam.yaw))
        frames.append(frame)
        joints.append(j)
    norm = normalise(np.stack(frames), ds.mean, ds.std).astype(np.float32)
    codes = pose_tok.encode(torch.from_numpy(norm)[:, None])[:, 0].cpu().numpy()
    return PoseSet(preprocess_images(images, image_size), codes, np.stack(joints), np.asarray(yaws, np.float32))


def encode_crops(motion_tok: Any, crops: Sequence[np.ndarray], batch: int = 32) -> list[np.ndarray]:
    """Normalised crops (T_i multiple of l) -> codes (T_i / l, streams), batched by length."""
    out: list[np.ndarray | None] = [None] * len(crops)
    by_len: dict[int, list[int]] = {}
    for i, c in enumerate(crops):
        by_len.setdefault(c.shape[0], []).append(i)
    for _, idx in sorted(by_len.items()):
        for s in range(0, len(idx), batch):
            part = idx[s:s + batch]
            x = torch.from_numpy(np.stack([crops[i] for i in part]).astype(np.float32))
            codes = motion_tok.encode(x).cpu().numpy()
            for k, i in enumerate(part):
                out[i] = codes[k]
    return [c for c in out if c is not None]


# ------------------------------------------------------------------------------- t2m prompt variants
def t2m_variant(key: int, text_share: float | None) -> str:
    """The t2m prompt variant of a sample from its random key: one third each when
    `text_share` is None (the v1 recipes; kept so their samples stay identical), else the
    plain text with probability `text_share` and the two hinted variants evenly."""
    if text_share is None:
        return ("text", "first_token", "last_token")[key % 3]
    if (key % 10007) / 10007 < text_share:
        return "text"
    return "first_token" if (key // 10007) % 2 == 0 else "last_token"


# ------------------------------------------------------------------------------- builder
def build_instruct_data(cfg: HMVLMConfig, dataset_root: Path, motion_tok: Any, n_samples: int,
                        general: dict[str, str], pose_set: PoseSet | None, seed: int | None = None) -> InstructData:
    """`n_samples` training samples mixed by `cfg.task_mix` (t2m split evenly over its three
    prompt variants). `general` maps prompt -> base answer; `pose_set` may be None (then pose
    samples are left out and the choice is noted)."""
    seed = cfg.seed if seed is None else seed
    rng = np.random.default_rng([seed, 3])
    weights = dict(cfg.task_weights)
    notes: list[str] = []
    if pose_set is None and weights.get("pose", 0) > 0:
        notes.append("no pose set (renderer unavailable): pose samples left out")
        weights["pose"] = 0.0
    if not general and weights.get("general", 0) > 0:  # no prompts configured
        notes.append("no general answers: general samples left out")
        weights["general"] = 0.0
    names = [t for t, w in weights.items() if w > 0]
    probs = np.array([weights[t] for t in names], dtype=np.float64)
    probs /= probs.sum()
    tasks = [names[k] for k in rng.choice(len(names), size=n_samples, p=probs)]

    ds = _load_train(dataset_root)
    l = motion_tok.downsample
    lo, hi = cfg.min_motion_frames // l, cfg.max_motion_frames // l
    motion_items: list[tuple[int, str, np.ndarray]] = []  # (sample index, caption, crop)
    for si, task in enumerate(tasks):
        if task not in ("t2m", "m2t"):
            continue
        item = ds[int(rng.integers(len(ds)))]
        steps = int(rng.integers(lo, hi + 1))
        steps = min(steps, item.length // l)
        start = int(rng.integers(item.length - steps * l + 1))
        if cfg.motion_crop == "whole":  # draws above kept, so other samples stay as in `random`
            steps, start = min(hi, item.length // l), 0
        crop = normalise(item.features[start:start + steps * l], ds.mean, ds.std)
        caption = item.captions[int(rng.integers(len(item.captions)))].text if item.captions else ""
        motion_items.append((si, caption, crop))
    codes = encode_crops(motion_tok, [c for _, _, c in motion_items])
    by_sample = {si: (cap, cd) for (si, cap, _), cd in zip(motion_items, codes)}

    gen_prompts = sorted(general)
    samples: list[Sample] = []
    for si, task in enumerate(tasks):
        key = int(rng.integers(1 << 30))
        if task in ("t2m", "m2t"):
            caption, cd = by_sample[si]
            motion = codes_to_text(cd, "motion")
            if task == "m2t":
                samples.append(Sample("m2t", T.m2t_prompt(motion, key), caption))
                continue
            variant = t2m_variant(key, cfg.t2m_text_share)
            hint = cd[:1] if variant == "first_token" else cd[-1:]
            user = T.t2m_prompt(caption, variant, key // 3,
                                motion=codes_to_text(hint, "motion") if variant != "text" else "")
            samples.append(Sample({"text": "t2m", "first_token": "t2m_first", "last_token": "t2m_last"}[variant],
                                  user, motion))
        elif task == "pose":
            assert pose_set is not None
            row = int(rng.integers(len(pose_set.codes)))
            samples.append(Sample("pose", T.pose_prompt(image_placeholder(cfg), key),
                                  codes_to_text(pose_set.codes[row][None], "pose"), image=row))
        else:
            prompt = gen_prompts[int(rng.integers(len(gen_prompts)))]
            samples.append(Sample("general", prompt, general[prompt], is_general=True))
    return InstructData(samples, pose_set.pixels if pose_set is not None else None, notes)


# ------------------------------------------------------------------------------- general answers
@torch.no_grad()
def base_answers(model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int,
                 batch_size: int = 8) -> dict[str, str]:
    """Greedy answers of the (unadapted) base model to chat-formatted prompts."""
    stop = T.end_of_turn(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: dict[str, str] = {}
    for s in range(0, len(prompts), batch_size):
        chunk = list(prompts[s:s + batch_size])
        rows = [tokenizer(T.chat_prompt(tokenizer, p), add_special_tokens=False)["input_ids"] for p in chunk]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, width - len(r):] = torch.tensor(r)
            mask[i, width - len(r):] = 1
        gen = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=pad, eos_token_id=tokenizer.convert_tokens_to_ids(stop)
                             if stop in tokenizer.get_vocab() else tokenizer.eos_token_id)
        for i, p in enumerate(chunk):
            text = tokenizer.decode(gen[i, width:], skip_special_tokens=False)
            out[p] = text.split(stop, 1)[0].replace(tokenizer.eos_token or "\0", "").strip()
    return out


def general_answers_artifact(store: Any, llm_fingerprint: str, model_loader: Any, cfg: HMVLMConfig) -> dict[str, str]:
    """Cached base answers for the config's general prompts (artifact kind `general_answers`)."""
    prompts = T.general_prompts(cfg.n_general, seed=cfg.seed)
    key = {"llm": llm_fingerprint, "prompts": prompts, "max_new_tokens": cfg.general_max_new_tokens,
           "templates": 1}

    def build(tmp: Path) -> None:
        model, tok = model_loader()
        answers = base_answers(model, tok, prompts, cfg.general_max_new_tokens)
        (tmp / "answers.json").write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")

    folder = store.get_or_build("general_answers", key, build)
    # An empty answer is the base model's own answer too (it ended the turn at once): kept.
    return json.loads((Path(folder) / "answers.json").read_text())


__all__ = ["InstructData", "PoseSet", "Sample", "base_answers", "build_instruct_data", "build_pose_set",
           "encode_crops", "frame_joints", "general_answers_artifact", "image_placeholder", "normalise"]
