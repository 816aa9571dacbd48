"""A trainable text-motion evaluator for datasets without an official one.

Text side: frozen all-MiniLM-L6-v2 (mean pooling over tokens, as sentence-transformers
does for this model) + a small MLP; MiniLM vectors are cached per unique caption.
Motion side: two stride-2 convolutions over normalised features (as Guo et al.'s
movement encoder) + a bidirectional GRU packed to length // 4 + an MLP. Both map to a
512-d space; outputs are L2-normalised and scaled to `output_radius`, so Euclidean
ranking (what R-precision uses) equals cosine ranking (what training optimises).
Loss: symmetric InfoNCE (CLIP, Radford et al. 2021) with a learned temperature.

Files: `evaluator.safetensors` (weights + the dataset Mean/Std it was trained with) and
`config.json` (config, sha256 of the weights, validation numbers). No pickle.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hmvlm_bench.checkpoint_io import file_sha256
from hmvlm_bench.errors import UserError
from hmvlm_bench.evaluators.base import Evaluator, pad_motions
from hmvlm_bench.presets import PresetTable

WEIGHTS_FILE = "evaluator.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1
MINILM_DIM = 384


@dataclass(frozen=True)
class ContrastiveConfig:
    preset: str = field(default="mini", metadata={"help": "preset name recorded in results"})
    feature_dim: int = field(default=263, metadata={"help": "motion feature width (263 HumanML3D, 251 KIT)"})
    embed_dim: int = field(default=512, metadata={"help": "shared embedding width"})
    text_hidden: int = field(default=512, metadata={"help": "text MLP hidden width"})
    conv_hidden: int = field(default=256, metadata={"help": "movement conv channels"})
    gru_hidden: int = field(default=256, metadata={"help": "motion GRU hidden size per direction"})
    unit_length: int = field(default=4, metadata={"help": "frames per latent step (two stride-2 convs)"})
    max_motion_length: int = field(default=196, metadata={"help": "pad/crop length (Guo et al.)"})
    output_radius: float = field(default=5.0, metadata={"help": "norm of every output embedding"})
    epochs: int = field(default=12, metadata={"help": "passes over the training split"})
    batch_size: int = field(default=64, metadata={"help": "pairs per InfoNCE batch"})
    lr: float = field(default=1e-3, metadata={"help": "AdamW learning rate (cosine decay)"})
    weight_decay: float = field(default=1e-4, metadata={"help": "AdamW weight decay"})
    temperature: float = field(default=0.07, metadata={"help": "initial InfoNCE temperature (learned)"})
    max_train_items: int | None = field(default=None, metadata={"help": "cap on training items (None: all)"})
    val_items: int = field(default=512, metadata={"help": "test items for the R@3 check after training"})
    seed: int = field(default=0, metadata={"help": "RNG seed (init, batches, crops, caption choice)"})
    num_threads: int = field(default=2, metadata={"help": "torch CPU threads while training"})

    def __post_init__(self) -> None:
        for name in ("feature_dim", "embed_dim", "text_hidden", "conv_hidden", "gru_hidden", "unit_length",
                     "max_motion_length", "epochs", "batch_size", "val_items", "num_threads"):
            if getattr(self, name) < 1:
                raise UserError(f"evaluator config: {name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise UserError("evaluator config: batch_size must be >= 2 for a contrastive loss")
        if not (self.lr > 0 and self.temperature > 0 and self.output_radius > 0):
            raise UserError("evaluator config: lr, temperature and output_radius must be > 0")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ContrastiveConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise UserError(f"evaluator config: unknown keys {sorted(unknown)}")
        return cls(**d)


# Sizes per preset: one entry per registered preset (tests/core/test_preset_tables.py checks).
_PRESETS: PresetTable[dict[str, Any]] = PresetTable("text-motion evaluator config", {
    # seconds on CPU: for tests and the tiny preset
    "tiny": dict(preset="tiny", text_hidden=64, conv_hidden=32, gru_hidden=32, epochs=2, batch_size=16,
                 max_train_items=128, val_items=64),
    # a few minutes on 2 cores on the 4,000-motion synthetic set
    "mini": dict(preset="mini"),
    # real datasets (HumanML3D-size): more capacity and epochs; GPU advisable
    "paper": dict(preset="paper", conv_hidden=512, gru_hidden=512, epochs=40, batch_size=128, val_items=4384),
})


def evaluator_config_for_preset(name: str, **overrides: Any) -> ContrastiveConfig:
    """ContrastiveConfig of preset 'tiny' | 'mini' | 'paper', with field overrides."""
    from hmvlm_bench.errors import did_you_mean

    if name not in _PRESETS:
        raise UserError(f"unknown evaluator preset '{name}'{did_you_mean(name, _PRESETS)}")
    return ContrastiveConfig(**{**_PRESETS[name], **overrides})


# ---------------------------------------------------------------------------- model


def _build_model(cfg: ContrastiveConfig):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence

    class MotionEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv1d(cfg.feature_dim, cfg.conv_hidden, 4, 2, 1),
                nn.LeakyReLU(0.2),
                nn.Conv1d(cfg.conv_hidden, cfg.conv_hidden, 4, 2, 1),
                nn.LeakyReLU(0.2),
            )
            self.input = nn.Linear(cfg.conv_hidden, cfg.gru_hidden)
            self.gru = nn.GRU(cfg.gru_hidden, cfg.gru_hidden, batch_first=True, bidirectional=True)
            self.head = nn.Sequential(
                nn.Linear(2 * cfg.gru_hidden, cfg.embed_dim),
                nn.LayerNorm(cfg.embed_dim),
                nn.LeakyReLU(0.2),
                nn.Linear(cfg.embed_dim, cfg.embed_dim),
            )

        def forward(self, x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
            h = self.input(self.conv(x.transpose(1, 2)).transpose(1, 2))
            steps = torch.clamp(lens // cfg.unit_length, min=1, max=h.shape[1])
            packed = pack_padded_sequence(h, steps.cpu(), batch_first=True, enforce_sorted=False)
            _, last = self.gru(packed)  # (2, B, H), back in input order
            return self.head(torch.cat([last[0], last[1]], dim=-1))

    class TextHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(MINILM_DIM, cfg.text_hidden),
                nn.LayerNorm(cfg.text_hidden),
                nn.GELU(),
                nn.Linear(cfg.text_hidden, cfg.embed_dim),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.motion = MotionEncoder()
            self.text = TextHead()
            self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / cfg.temperature)))
            self.register_buffer("mean", torch.zeros(cfg.feature_dim))
            self.register_buffer("std", torch.ones(cfg.feature_dim))

        def embed_motion(self, x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
            return nn.functional.normalize(self.motion(x, lens), dim=-1)

        def embed_text(self, t: torch.Tensor) -> torch.Tensor:
            return nn.functional.normalize(self.text(t), dim=-1)

    return Model()


class MiniLMCache:
    """Frozen MiniLM sentence vectors (mean-pooled last layer), cached per caption."""

    def __init__(self, batch_size: int = 128) -> None:
        self._vectors: dict[str, np.ndarray] = {}
        self._model = None
        self._tokenizer = None
        self.batch_size = batch_size

    def _load(self) -> None:
        if self._model is None:
            from hmvlm_bench.assets import load_minilm

            self._model, self._tokenizer = load_minilm()

    def __call__(self, captions: Sequence[str]) -> np.ndarray:
        import torch

        missing = sorted({c for c in captions if c not in self._vectors})
        if missing:
            self._load()
            for i in range(0, len(missing), self.batch_size):
                chunk = missing[i : i + self.batch_size]
                enc = self._tokenizer(chunk, padding=True, truncation=True, max_length=128, return_tensors="pt")
                with torch.no_grad():
                    hidden = self._model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                for c, v in zip(chunk, pooled.numpy().astype(np.float32)):
                    self._vectors[c] = v
        return np.stack([self._vectors[c] for c in captions]) if captions else np.zeros((0, MINILM_DIM), np.float32)


# ------------------------------------------------------------------------ evaluator


class ContrastiveEvaluator(Evaluator):
    """A trained contrastive evaluator (see module docstring); build with `load_evaluator`."""

    def __init__(self, model: Any, config: ContrastiveConfig, fingerprint: str, text_cache: MiniLMCache | None = None):
        self._model = model.eval()
        self.config = config
        self.name = f"contrastive-{config.preset}"
        self.dim = config.embed_dim
        self.feature_dim = config.feature_dim
        self._fingerprint = fingerprint
        self._text = text_cache or MiniLMCache()

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def mean(self) -> np.ndarray:
        return self._model.mean.numpy().copy()

    @property
    def std(self) -> np.ndarray:
        return self._model.std.numpy().copy()

    def normalize(self, features: np.ndarray) -> np.ndarray:
        """Raw features -> the normalisation this evaluator was trained with."""
        return (np.asarray(features, dtype=np.float32) - self.mean) / self.std

    def encode_text(self, captions: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        import torch

        if len(captions) == 0:
            raise UserError("no captions to encode")
        vec = torch.from_numpy(self._text(list(captions)))
        with torch.no_grad():
            out = self._model.embed_text(vec) * self.config.output_radius
        return out.double().numpy()

    def encode_motion(self, motions: Sequence[np.ndarray] | np.ndarray, lengths: Sequence[int], batch_size: int = 256) -> np.ndarray:
        import torch

        batch, lens = pad_motions(motions, lengths, self.feature_dim, self.config.max_motion_length)
        outs = []
        with torch.no_grad():
            for i in range(0, len(lens), batch_size):
                x = torch.from_numpy(batch[i : i + batch_size])
                n = torch.from_numpy(lens[i : i + batch_size])
                outs.append(self._model.embed_motion(x, n) * self.config.output_radius)
        return torch.cat(outs).double().numpy()




def load_evaluator(path: str | Path) -> ContrastiveEvaluator:
    """Load a trained evaluator folder (evaluator.safetensors + config.json); the weights'
    sha256 must match the one recorded at training time."""
    from safetensors.torch import load_file

    d = Path(path)
    wfile, cfile = d / WEIGHTS_FILE, d / CONFIG_FILE
    if not wfile.is_file() or not cfile.is_file():
        raise UserError(f"{d} is not a trained evaluator (needs {WEIGHTS_FILE} and {CONFIG_FILE})")
    meta = json.loads(cfile.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise UserError(f"{cfile}: unsupported evaluator format {meta.get('format_version')!r}")
    digest = file_sha256(wfile)
    if digest != meta.get("sha256"):
        raise UserError(f"{wfile}: sha256 {digest[:12]}… does not match config.json ({str(meta.get('sha256'))[:12]}…)")
    cfg = ContrastiveConfig.from_dict(meta["config"])
    model = _build_model(cfg)
    try:
        model.load_state_dict(load_file(str(wfile)))
    except RuntimeError as exc:
        raise UserError(f"{wfile} does not fit its config: {str(exc).splitlines()[0]}") from None
    return ContrastiveEvaluator(model, cfg, digest)


# ------------------------------------------------------------------------- training


@dataclass
class _Pairs:
    """Training/eval material held in memory: normalised motions and their captions."""

    motions: list[np.ndarray]
    captions: list[list[str]]


def _load_pairs(dataset: Any, limit: int | None) -> _Pairs:
    motions, captions = [], []
    n = len(dataset) if limit is None else min(limit, len(dataset))
    for i in range(n):
        s = dataset[i]
        if not s.captions:
            continue
        motions.append(dataset.normalize(s.features).astype(np.float32))
        captions.append([c.text for c in s.captions])
    if len(motions) < 2:
        raise UserError("the evaluator needs at least 2 captioned motions to train")
    return _Pairs(motions, captions)


def _crop(m: np.ndarray, cfg: ContrastiveConfig, rng: np.random.Generator) -> np.ndarray:
    # Random window of a multiple of unit_length frames (Guo et al. crop to multiples of 4).
    n = min(len(m), cfg.max_motion_length)
    n = max((n // cfg.unit_length) * cfg.unit_length, min(len(m), cfg.unit_length))
    start = int(rng.integers(0, len(m) - n + 1))
    return m[start : start + n]


def train_on_pairs(
    train: _Pairs, cfg: ContrastiveConfig, mean: np.ndarray, std: np.ndarray, text_cache: MiniLMCache,
    progress: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Train the model on in-memory pairs; returns (model, log dict)."""
    import torch

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.num_threads)
    try:
        model = _build_model(cfg)
        model.mean.copy_(torch.from_numpy(mean.astype(np.float32)))
        model.std.copy_(torch.from_numpy(std.astype(np.float32)))
        all_caps = sorted({c for cs in train.captions for c in cs})
        text_cache(all_caps)  # one MiniLM pass over every caption, then cached
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        n = len(train.motions)
        bs = min(cfg.batch_size, n)
        steps_per_epoch = max(n // bs, 1)
        total = steps_per_epoch * cfg.epochs
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / total, 1.0))))
        loss_f = torch.nn.functional.cross_entropy
        log: dict[str, Any] = {"steps": total, "losses": []}
        t0 = time.time()
        model.train()
        for epoch in range(cfg.epochs):
            order = rng.permutation(n)
            ep_loss = 0.0
            for s in range(steps_per_epoch):
                idx = order[s * bs : (s + 1) * bs]
                crops = [_crop(train.motions[i], cfg, rng) for i in idx]
                lens = [len(c) for c in crops]
                x, lens_arr = pad_motions(crops, lens, cfg.feature_dim, cfg.max_motion_length)
                caps = [train.captions[i][int(rng.integers(len(train.captions[i])))] for i in idx]
                t = torch.from_numpy(text_cache(caps))
                zm = model.embed_motion(torch.from_numpy(x), torch.from_numpy(lens_arr))
                zt = model.embed_text(t)
                logits = model.logit_scale.clamp(max=math.log(100.0)).exp() * zt @ zm.T
                target = torch.arange(len(idx))
                loss = 0.5 * (loss_f(logits, target) + loss_f(logits.T, target))
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                ep_loss += float(loss.detach())
            log["losses"].append(ep_loss / steps_per_epoch)
            if progress:
                print(f"[evaluator] epoch {epoch + 1}/{cfg.epochs} loss {log['losses'][-1]:.4f} "
                      f"({time.time() - t0:.0f}s)", flush=True)
        log["train_seconds"] = round(time.time() - t0, 2)
        model.eval()
        return model, log
    finally:
        torch.set_num_threads(old_threads)


def validate(evaluator: Evaluator, pairs: _Pairs, seed: int = 0) -> dict[str, float]:
    """R@1..3 of true pairs and of mismatched (permuted) pairs, first caption each,
    batches of 32 as Guo et al. (the random level is 1/32, 2/32, 3/32)."""
    from hmvlm_bench.metrics.motion import r_precision

    n = (len(pairs.motions) // 32) * 32
    if n == 0:
        return {}
    caps = [c[0] for c in pairs.captions[:n]]
    m = evaluator.encode_motion(pairs.motions[:n], [len(x) for x in pairs.motions[:n]])
    t = evaluator.encode_text(caps)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    real = r_precision(t[perm], m[perm])
    rand = r_precision(t[perm], m[rng.permutation(n)])
    return {"n": n, "real_R@1": float(real[0]), "real_R@3": float(real[2]),
            "random_R@1": float(rand[0]), "random_R@3": float(rand[2])}


def _save(model: Any, cfg: ContrastiveConfig, out_dir: Path, extra: dict[str, Any]) -> str:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    wfile = out_dir / WEIGHTS_FILE
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(wfile))
    digest = file_sha256(wfile)
    meta = {"format_version": FORMAT_VERSION, "kind": "contrastive", "config": cfg.to_dict(), "sha256": digest, **extra}
    (out_dir / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
    return digest


def train_contrastive_evaluator(
    dataset_root: str | Path, out_dir: str | Path, config: ContrastiveConfig, progress: bool = True
) -> Path:
    """Train on the `train` split of a HumanML3D-layout dataset, check R@3 on `test`
    (or `val`), write evaluator.safetensors + config.json to out_dir; return out_dir."""
    from hmvlm_bench.motion.dataset import load_dataset

    out = Path(out_dir)
    train_ds = load_dataset(dataset_root, "train")
    if train_ds.spec.feature_dim != config.feature_dim:
        raise UserError(f"dataset features are {train_ds.spec.feature_dim}-d but the evaluator config says {config.feature_dim}")
    pairs = _load_pairs(train_ds, config.max_train_items)
    cache = MiniLMCache()
    model, log = train_on_pairs(pairs, config, train_ds.mean, train_ds.std, cache, progress)
    digest = _save(model, config, out, {"training": log, "dataset_hash": train_ds.dataset_hash()})
    evaluator = ContrastiveEvaluator(model, config, digest, cache)
    split = next((s for s in ("test", "val") if s in train_ds.available_splits()), None)
    if split is not None:
        val_ds = load_dataset(dataset_root, split)
        val = validate(evaluator, _load_pairs(val_ds, config.val_items), config.seed)
        meta = json.loads((out / CONFIG_FILE).read_text())
        meta["validation"] = {"split": split, **val}
        (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
        if progress:
            print(f"[evaluator] {split}: real R@3 {val.get('real_R@3', float('nan')):.3f}, "
                  f"random R@3 {val.get('random_R@3', float('nan')):.3f}", flush=True)
    return out
