"""Whole-body tokenizer baselines: T2M-GPT's VQ-VAE over the full 263-d vector.

HMVLM's tokenizer ablation (paper table "whole-body K=512" and "K=512x5") compares the
body-part tokenizer with one code per 4 frames from a single codebook of K = 512 or
5 * 512 = 2560 codes. Architecture after Mael-zys/T2M-GPT `models/vqvae.py` (VQVAE_251):
conv encoder 263 -> code_dim with l = 4, QuantizeEMAReset, mirrored conv decoder. The conv
blocks and the quantiser are the reference tokenizer's (no second copy).

Importing this module registers the variants "whole-body" and "whole-body-x5" with
`reference_model.tokenizer.base.TOKENIZER_CLASSES` (it is one of `TOKENIZER_MODULES`).
Tokenizers saved before it moved here from `baselines/` name "baselines.whole_body_vq:
WholeBodyVQ" as their "class": information only, loading goes by variant.
"""
from __future__ import annotations

import torch
from torch import nn

from hmvlm_bench.motion.skeleton import FEATURE_DIM
from reference_model.tokenizer.base import MotionTokenizer, register_tokenizer
from reference_model.tokenizer.config import TokenizerConfig
from reference_model.tokenizer.conv import ConvDecoder, ConvEncoder
from reference_model.tokenizer.quantizer import QuantizeEMAReset


@register_tokenizer("whole-body", "whole-body-x5")
class WholeBodyVQ(MotionTokenizer):
    """One stream: one code per 4 frames from a K (or 5K for the x5 variant) codebook."""

    variants = ("whole-body", "whole-body-x5")
    n_streams = 1

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__(config)
        c = config
        self.encoder = ConvEncoder(FEATURE_DIM, c.code_dim, c.width, c.down_t, c.depth, c.dilation_growth_rate)
        self.quantizers = nn.ModuleList([QuantizeEMAReset(c.codebook_size, c.code_dim, c.mu)])
        self.decoder = ConvDecoder(c.code_dim, FEATURE_DIM, c.width, c.down_t, c.depth, c.dilation_growth_rate)

    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.transpose(1, 2)).transpose(1, 2)[:, :, None]

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z[:, :, 0].transpose(1, 2)).transpose(1, 2)
