"""Fixtures: a tiny HMVLM network (random tiny Llama, untrained tiny tokenizers, hashing gate)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import reference_model.moe_lora  # noqa: F401  (registers the MoE-LoRA peft method)


def tiny_tokenizers():
    from reference_model.tokenizer.body_part import BodyPartTokenizer, PoseTokenizer
    from reference_model.tokenizer.config import TokenizerConfig

    torch.manual_seed(0)
    return (BodyPartTokenizer(TokenizerConfig.for_preset("tiny", "body-part")).eval(),
            PoseTokenizer(TokenizerConfig.for_preset("tiny", "pose")).eval())


def build_tiny(variant: str = "hmvlm", randomize_experts: bool = True, **over):
    from reference_model.hmvlm.config import HMVLMConfig
    from reference_model.hmvlm.network import assemble
    from reference_model.hmvlm.vision import PoseCNN

    cfg = HMVLMConfig.for_preset("tiny", variant, **over)
    motion_tok, pose_tok = tiny_tokenizers()
    torch.manual_seed(1)
    net = assemble(cfg, motion_tok, pose_tok, np.zeros(263, np.float32), np.ones(263, np.float32),
                   PoseCNN(cfg.vision_width, cfg.image_patches))
    if randomize_experts:  # B = 0 at init would make "zero expert = base" trivially true
        with torch.no_grad():
            for n, p in net.llm.named_parameters():
                if "lora_B" in n:
                    p.normal_(0, 0.5, generator=torch.Generator().manual_seed(2))
    return net.eval()


@pytest.fixture(scope="module")
def tiny_net():
    return build_tiny()


@pytest.fixture(scope="module")
def tiny_factory():
    return build_tiny
