"""HMVLM motion/pose tokenizers (body-part VQ-VAE), the whole-body VQ-VAE of the tokenizer
ablation, and the shared tokenizer interface.

Light on import: names resolve lazily so `import reference_model.tokenizer` pulls no torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TokenizerConfig": "reference_model.tokenizer.config",
    "MotionTokenizer": "reference_model.tokenizer.base",
    "TOKENIZER_CLASSES": "reference_model.tokenizer.base",
    "register_tokenizer": "reference_model.tokenizer.base",
    "BodyPartTokenizer": "reference_model.tokenizer.body_part",
    "PoseTokenizer": "reference_model.tokenizer.body_part",
    "WholeBodyVQ": "reference_model.tokenizer.whole_body",
    "QuantizeEMAReset": "reference_model.tokenizer.quantizer",
    "train_tokenizer": "reference_model.tokenizer.training",
    "load_tokenizer": "reference_model.tokenizer.base",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'reference_model.tokenizer' has no attribute {name!r}")
