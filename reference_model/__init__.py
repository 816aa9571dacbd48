"""Reference HMVLM model: body-part tokenizers, MoE-LoRA peft tuner, prompt gate.

Kept free of imports so that `import reference_model` costs nothing; import the
submodules you need (e.g. `reference_model.moe_lora`, which registers the tuner with peft).
"""
