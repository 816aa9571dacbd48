"""HMVLM's body-part motion tokenizer and pose tokenizer (paper sec. 3.4).

Spatial encoder (per frame): each joint's feature vector (per_joint.py) gets its own linear
projection plus a learned joint positional embedding; five learnable part queries join
the 22 joint tokens, and a block-diagonal attention mask lets every token (query or joint)
attend only to tokens of its own part. Each part query's output is the part's pooled
feature. Nothing crosses parts before quantisation: the per-joint projection and the
temporal encoder act on one part at a time, and the mask stops attention mixing.

Motion: temporal conv encoder (T2M-GPT style, l = 4) with weights *shared* across parts
plus a learned part embedding on its input (our choice: a fifth of the parameters of five
separate encoders, and parts batch together); one EMA codebook per part; the five
quantised streams are concatenated channel-wise and one conv decoder upsamples back to
263-d (the decoder may mix parts; only the codes must be part-pure).
Pose: the same spatial encoder design on single frames -> five part codes (own codebooks)
-> a separate MLP pose decoder to the 263-d frame (`PoseTokenizer`).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hmvlm_bench.motion.skeleton import FEATURE_DIM, N_JOINTS, N_PARTS, part_of_joint
from reference_model.tokenizer.base import MotionTokenizer, register_tokenizer
from reference_model.tokenizer.config import TokenizerConfig
from reference_model.tokenizer.conv import ConvDecoder, ConvEncoder
from reference_model.tokenizer.per_joint import JOINT_WIDTH, gather_joints
from reference_model.tokenizer.quantizer import QuantizeEMAReset


def part_attention_mask() -> torch.Tensor:
    """(5 + 22, 5 + 22) bool, True = may attend: tokens [part queries..., joints...]."""
    part = np.concatenate([np.arange(N_PARTS), part_of_joint()])
    return torch.as_tensor(part[:, None] == part[None, :])


class MaskedBlock(nn.Module):
    """Pre-LN transformer block whose attention obeys a fixed boolean mask."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n, s, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(n, s, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.out(att.transpose(1, 2).reshape(n, s, d))
        return x + self.mlp(self.norm2(x))


class SpatialPartEncoder(nn.Module):
    """(N, 22, JOINT_WIDTH) per-joint features -> (N, 5, dim) part features."""

    def __init__(self, dim: int, layers: int, heads: int) -> None:
        super().__init__()
        # one projection per joint: joints carry different quantities in the same slots
        self.proj_weight = nn.Parameter(torch.randn(N_JOINTS, JOINT_WIDTH, dim) / math.sqrt(JOINT_WIDTH))
        self.proj_bias = nn.Parameter(torch.zeros(N_JOINTS, dim))
        self.joint_pos = nn.Parameter(torch.randn(N_JOINTS, dim) * 0.02)
        self.part_queries = nn.Parameter(torch.randn(N_PARTS, dim) * 0.02)
        self.blocks = nn.ModuleList(MaskedBlock(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.register_buffer("mask", part_attention_mask(), persistent=False)

    def forward(self, per_joint: torch.Tensor, return_tokens: bool = False) -> torch.Tensor:
        tokens = torch.einsum("njw,jwd->njd", per_joint, self.proj_weight) + self.proj_bias + self.joint_pos
        queries = self.part_queries.expand(per_joint.shape[0], -1, -1)
        x = torch.cat([queries, tokens], dim=1)
        for block in self.blocks:
            x = block(x, self.mask)
        x = self.norm(x)
        return x if return_tokens else x[:, :N_PARTS]


@register_tokenizer("body-part")
class BodyPartTokenizer(MotionTokenizer):
    """HMVLM motion tokenizer: 5 streams (PART_NAMES order), one code per part per 4 frames."""

    variants = ("body-part",)
    n_streams = N_PARTS

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__(config)
        c = config
        self.spatial = SpatialPartEncoder(c.spatial_dim, c.spatial_layers, c.spatial_heads)
        self.part_embed = nn.Parameter(torch.randn(N_PARTS, c.spatial_dim) * 0.02)
        self.temporal = ConvEncoder(c.spatial_dim, c.code_dim, c.width, c.down_t, c.depth, c.dilation_growth_rate)
        self.quantizers = nn.ModuleList(QuantizeEMAReset(c.codebook_size, c.code_dim, c.mu) for _ in range(N_PARTS))
        self.decoder = ConvDecoder(N_PARTS * c.code_dim, FEATURE_DIM, c.width, c.down_t, c.depth,
                                   c.dilation_growth_rate)

    def part_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, 263) -> per-frame part features (B, T, 5, spatial_dim)."""
        b, t, _ = x.shape
        return self.spatial(gather_joints(x).reshape(b * t, N_JOINTS, JOINT_WIDTH)).reshape(b, t, N_PARTS, -1)

    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        h = self.part_features(x) + self.part_embed  # (B, T, 5, D)
        h = self.temporal(h.permute(0, 2, 3, 1).reshape(b * N_PARTS, -1, t))  # parts stay separate rows
        return h.reshape(b, N_PARTS, self.config.code_dim, -1).permute(0, 3, 1, 2)

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        b, s, n, d = z.shape
        return self.decoder(z.reshape(b, s, n * d).transpose(1, 2)).transpose(1, 2)


@register_tokenizer("pose")
class PoseTokenizer(MotionTokenizer):
    """HMVLM pose tokenizer: spatial encoder only, 5 codes per frame (l = 1), MLP decoder."""

    variants = ("pose",)
    n_streams = N_PARTS

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__(config)
        c = config
        self.spatial = SpatialPartEncoder(c.spatial_dim, c.spatial_layers, c.spatial_heads)
        self.to_code = nn.Linear(c.spatial_dim, c.code_dim)  # shared across parts, acts per part
        self.quantizers = nn.ModuleList(QuantizeEMAReset(c.codebook_size, c.code_dim, c.mu) for _ in range(N_PARTS))
        self.decoder = nn.Sequential(
            nn.Linear(N_PARTS * c.code_dim, c.width), nn.ReLU(),
            nn.Linear(c.width, c.width), nn.ReLU(), nn.Linear(c.width, FEATURE_DIM),
        )

    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        h = self.spatial(gather_joints(x).reshape(b * t, N_JOINTS, JOINT_WIDTH))
        return self.to_code(h).reshape(b, t, N_PARTS, -1)

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        b, t, n, d = z.shape
        return self.decoder(z.reshape(b, t, n * d))

    def encode_pose(self, frames_norm: torch.Tensor) -> torch.Tensor:
        """(B, 263) single normalised frames -> codes (B, 5)."""
        return self.encode(frames_norm[:, None])[:, 0]

    def decode_pose(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, 5) -> normalised frames (B, 263)."""
        return self.decode(codes[:, None])[:, 0]

    def decode_pose_joints(self, codes: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
        """codes (B, 5) -> 22-joint poses (B, 22, 3): de-normalise with the dataset Mean/Std
        and recover positions from the frame's ric + root height (single-frame recover_from_ric)."""
        from hmvlm_bench.motion.features import recover_joints_torch

        frames = self.decode_pose(codes) * torch.as_tensor(std) + torch.as_tensor(mean)
        return recover_joints_torch(frames[:, None].float())[:, 0]
