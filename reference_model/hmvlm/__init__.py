"""The reference HMVLM over a real causal LLM: extended vocabulary, MoE-LoRA with a zero
expert and a prompt gate, a small vision path for pose-from-image, multi-task instruction
data and training, and the `hmvlm` BenchModel (plus the variants the baselines reuse).

Light on import: nothing here imports torch until a submodule is used.
"""
