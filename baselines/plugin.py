"""The one place baseline models register. A new baseline: one module + one line here."""
from __future__ import annotations

from hmvlm_bench.registry import Registries


def register(regs: Registries) -> None:
    regs.models.register("ground-truth", "baselines.reference_rows:GroundTruthModel",
                         aliases=("real",), description="the dataset's own data: the ceiling row")
    regs.models.register("random", "baselines.reference_rows:RandomModel",
                         description="random training data: the floor row")
    regs.models.register("lora", "baselines.lora:LoRAModel",
                         description="plain LoRA r=8 on all linears (no gate, no zero expert)")
    regs.models.register("full-ft", "baselines.full_ft:FullFTModel",
                         description="full fine-tune of the base LLM")
    regs.models.register("whole-body", "baselines.variants:WholeBodyModel",
                         description="HMVLM with a whole-body (single-stream) motion tokenizer")
    regs.models.register("whole-body-x5", "baselines.variants:WholeBodyX5Model",
                         description="HMVLM with a whole-body tokenizer of 5x codebook")
    regs.models.register("no-zero", "baselines.variants:NoZeroModel",
                         description="MoE-LoRA without the zero expert")
    regs.models.register("no-gate-loss", "baselines.variants:NoGateLossModel",
                         description="MoE-LoRA without the gating loss")
    regs.models.register("tokenizer-whole-body", "baselines.variants:WholeBodyTokenizerModel",
                         description="whole-body K tokenizer alone (reconstruction)")
    regs.models.register("tokenizer-whole-body-x5", "baselines.variants:WholeBodyX5TokenizerModel",
                         description="whole-body 5K tokenizer alone (reconstruction)")
    regs.models.register("base-llm", "baselines.base_llm:BaseLLM",
                         description="the preset's base LLM, untouched (forgetting reference)")
