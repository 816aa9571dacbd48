"""HMVLM ablations as deltas (HMVLM paper: tokenizer ablation, zero expert, gating loss).

Each class only names its variant; the delta lives in `VARIANT_DELTAS`
(reference_model/hmvlm/config.py):
- `whole-body`: one-stream T2M-GPT VQ-VAE (K = 512 paper / preset size) instead of body parts;
- `whole-body-x5`: the same with a 5x larger codebook;
- `no-zero`: MoE-LoRA with 4 trainable experts and no zero expert (L_gat then pulls general
  prompts to expert 0, a trainable one, so only the zero expert's effect differs);
- `no-gate-loss`: MoE-LoRA with the zero expert but without L_gat.
Tokenizer-only rows for the reconstruction task: `tokenizer-whole-body(-x5)`.
"""
from __future__ import annotations

from typing import ClassVar

from reference_model.hmvlm.model import HMVLMModel
from reference_model.hmvlm.tokenizer_model import TokenizerModel


class WholeBodyModel(HMVLMModel):
    name: ClassVar[str] = "whole-body"
    variant: ClassVar[str] = "whole-body"


class WholeBodyX5Model(HMVLMModel):
    name: ClassVar[str] = "whole-body-x5"
    variant: ClassVar[str] = "whole-body-x5"


class NoZeroModel(HMVLMModel):
    name: ClassVar[str] = "no-zero"
    variant: ClassVar[str] = "no-zero"


class NoGateLossModel(HMVLMModel):
    name: ClassVar[str] = "no-gate-loss"
    variant: ClassVar[str] = "no-gate-loss"


class WholeBodyTokenizerModel(TokenizerModel):
    name: ClassVar[str] = "tokenizer-whole-body"
    tokenizer_variant: ClassVar[str] = "whole-body"


class WholeBodyX5TokenizerModel(TokenizerModel):
    name: ClassVar[str] = "tokenizer-whole-body-x5"
    tokenizer_variant: ClassVar[str] = "whole-body-x5"
