"""Old import paths of the HMVLM variant models, kept for code that imports them.

The variants themselves are entries in `reference_model.hmvlm.variants.VARIANTS` (name,
config delta, description, kind); each name here is the class built from its entry (the
same object the model registry returns).
"""
from __future__ import annotations

from reference_model.hmvlm.variants import variant_model

LoRAModel = variant_model("lora")
FullFTModel = variant_model("full-ft")
WholeBodyModel = variant_model("whole-body")
WholeBodyX5Model = variant_model("whole-body-x5")
NoZeroModel = variant_model("no-zero")
NoGateLossModel = variant_model("no-gate-loss")
WholeBodyTokenizerModel = variant_model("tokenizer-whole-body")
WholeBodyX5TokenizerModel = variant_model("tokenizer-whole-body-x5")
