"""Registers the reference HMVLM model, its variants and its trainers with the harness."""
from __future__ import annotations

from hmvlm_bench.registry import Registries


def register(regs: Registries) -> None:
    from reference_model.hmvlm.variants import register_variants
    from reference_model.tokenizer.config import VARIANTS as TOKENIZER_VARIANTS

    # `hmvlm`, its ablation variants and the tokenizer-only rows: one entry each in
    # reference_model/hmvlm/variants.py (VARIANTS), registered from there
    register_variants(regs)
    regs.trainers.register("model", "reference_model.hmvlm.training:train_model",
                           description="multi-task instruction tuning of HMVLM or a baseline variant")
    regs.trainers.register("tokenizer", "reference_model.hmvlm.train_keys:train_tokenizer_cmd",
                           description=f"motion/pose tokenizer ({', '.join(TOKENIZER_VARIANTS)})",
                           variants=TOKENIZER_VARIANTS)  # `train tokenizer --variant` lists them
    # Throughput suites for `hmvlm-bench bench` (see reference_model/bench_suites.py).
    regs.benchmarks.register("moe_lora_layer", "reference_model.bench_suites:layer_suite",
                             description="MoE-LoRA layer fwd / fwd+bwd: batched vs loop vs peft LoRA vs base")
    regs.benchmarks.register("generation", "reference_model.bench_suites:generation_suite",
                             description="generation tok/s and TTFT with KV cache: base, LoRA, MoE-LoRA")
    regs.benchmarks.register("decode_engines", "reference_model.bench_suites:decode_engines_suite",
                             description="t2m decode engines (prealloc / static / compiled KV cache) over eager")
    regs.benchmarks.register("latency_protocol", "reference_model.bench_suites:latency_protocol_suite",
                             description="HMVLM latency protocol: batch 1, no KV cache, 84 tokens, gating")
    regs.benchmarks.register("training", "reference_model.bench_suites:training_suite",
                             description="instruction-tuning step tok/s: optimised path vs plain fp32 (ratio)")
    regs.benchmarks.register("tokenizer", "reference_model.bench_suites:tokenizer_suite",
                             description="motion tokenizer encode/decode motions/s, body-part vs whole-body")
