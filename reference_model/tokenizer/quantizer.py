"""Vector quantiser with EMA codebook updates and dead-code reset.

Behaviour follows T2M-GPT's `QuantizeEMAReset` (Mael-zys/T2M-GPT `models/quantize_cnn.py`):
- the codebook is initialised from the first training batch (tiled with noise of std
  0.01/sqrt(dim) when the batch has fewer vectors than codes);
- every training step: code_sum <- mu*code_sum + (1-mu)*sum(x assigned), code_count likewise;
  live codes (EMA count >= 1) become code_sum/code_count, dead codes are replaced by
  encoder outputs of the current batch;
- the loss returned is the commitment term ||x - sg(q)||^2; the codebook has no gradient,
  so HMVLM's L_emb is realised by the EMA update (van den Oord et al. 2017, App. A.1);
- straight-through estimator for the encoder gradient.
Differences (ours): dead codes take *randomly permuted* batch vectors (T2M-GPT takes the
first K), all state lives in buffers (so safetensors round-trips it), input is (N, D).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class QuantizeEMAReset(nn.Module):
    """(N, dim) -> quantised (N, dim), codes (N,), commitment loss, perplexity."""

    def __init__(self, codebook_size: int, dim: int, mu: float = 0.99) -> None:
        super().__init__()
        self.codebook_size = codebook_size
        self.dim = dim
        self.mu = mu
        self.register_buffer("codebook", torch.zeros(codebook_size, dim))
        self.register_buffer("code_sum", torch.zeros(codebook_size, dim))
        self.register_buffer("code_count", torch.zeros(codebook_size))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    def _candidates(self, x: torch.Tensor) -> torch.Tensor:
        """K replacement vectors drawn from the batch (tiled + noise when N < K)."""
        n = x.shape[0]
        if n < self.codebook_size:
            reps = math.ceil(self.codebook_size / n)
            x = x.repeat(reps, 1)
            x = x + torch.randn_like(x) * (0.01 / math.sqrt(self.dim))
        perm = torch.randperm(x.shape[0], device=x.device)[: self.codebook_size]
        return x[perm]

    @torch.no_grad()
    def _init_codebook(self, x: torch.Tensor) -> None:
        cand = self._candidates(x)
        self.codebook.copy_(cand)
        self.code_sum.copy_(cand)
        self.code_count.fill_(1.0)
        self.initialized.fill_(True)

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest code index of every row of x (squared Euclidean distance)."""
        cb = self.codebook
        dist = x.pow(2).sum(-1, keepdim=True) - 2 * x @ cb.t() + cb.pow(2).sum(-1)[None]
        return dist.argmin(dim=-1)

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        return F.embedding(codes, self.codebook)

    @torch.no_grad()
    def ema_update(self, x: torch.Tensor, codes: torch.Tensor) -> None:
        onehot = F.one_hot(codes, self.codebook_size).to(x.dtype)  # (N, K)
        batch_sum = onehot.t() @ x
        batch_count = onehot.sum(0)
        self.code_sum.mul_(self.mu).add_(batch_sum, alpha=1 - self.mu)
        self.code_count.mul_(self.mu).add_(batch_count, alpha=1 - self.mu)
        live = (self.code_count >= 1.0).unsqueeze(1)
        centres = self.code_sum / self.code_count.clamp_min(1e-12).unsqueeze(1)
        if bool(live.all()):
            self.codebook.copy_(centres)
        else:
            self.codebook.copy_(torch.where(live, centres, self._candidates(x)))

    @staticmethod
    def perplexity(codes: torch.Tensor, codebook_size: int) -> torch.Tensor:
        prob = torch.bincount(codes, minlength=codebook_size).float()
        prob = prob / prob.sum().clamp_min(1)
        return torch.exp(-(prob * torch.log(prob + 1e-7)).sum())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected (N, {self.dim}), got {tuple(x.shape)}")
        if self.training and not bool(self.initialized):
            self._init_codebook(x.detach())
        codes = self.quantize(x.detach())
        q = self.dequantize(codes)
        if self.training:
            self.ema_update(x.detach(), codes)
        commit = F.mse_loss(x, q.detach())
        q = x + (q - x).detach()  # straight-through
        return q, codes, commit, self.perplexity(codes, self.codebook_size)
