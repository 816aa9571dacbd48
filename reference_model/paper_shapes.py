"""Random weights at the paper's shapes, for smoke tests without the licensed checkpoints.

`--random-weights` (train) / `random_weights=true` (run) on the `paper` preset puts
`random:<name>[:layers=N]` in place of the local paths of Vicuna-7B and CLIP ViT-L/14;
the loaders build those towers from the configs below with random weights, so the whole
paper pipeline (MoE-LoRA on every linear of a 4096-wide Llama, CLIP gate, CLIP patches +
LLaVA projector, batch 32 from micro-batch 2, bf16 on GPU) runs end to end. `layers=N`
cuts every tower to N layers (CPU tests); widths stay real.

Text for these towers is tokenized with SmolLM2's tokenizer (the only one offline): its
49,152 ids set the LLM vocabulary (Llama-2 has 32,000, so the embedding holds 70M more
parameters than Vicuna's) and fit inside CLIP's 49,408.
"""
from __future__ import annotations

from typing import Any

from hmvlm_bench.errors import UserError
from hmvlm_bench.model_shapes import LLAMA2_7B

PREFIX = "random:"
LLM = "llama-2-7b"
CLIP_TEXT = "clip-vit-l-14-text"
CLIP_VISION = "clip-vit-l-14-vision"

# meta-llama/Llama-2-7b-hf config.json, stated once in the core
# openai/clip-vit-large-patch14 config.json (text_config / vision_config)
CLIP_L14_TEXT: dict[str, Any] = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                     num_attention_heads=12, max_position_embeddings=77, projection_dim=768,
                                     vocab_size=49408)
CLIP_L14_VISION: dict[str, Any] = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                       num_attention_heads=16, image_size=224, patch_size=14, projection_dim=768)

# Data sizes of a smoke run (the towers keep the paper's shapes; batch 32 / micro 2 stays).
SMOKE_OVERRIDES: dict[str, Any] = dict(steps=4, n_general=4, general_max_new_tokens=8, n_pose_images=8,
                                       tokenizer_steps=10, checkpoint_every=2, caption_max_new_tokens=8,
                                       max_seq_len=512, warmup_steps=1)


def random_path(name: str, num_layers: int | None = None) -> str:
    return PREFIX + name + (f":layers={int(num_layers)}" if num_layers else "")


def is_random(path: str | None) -> bool:
    return bool(path) and str(path).startswith(PREFIX)


def parse(path: str) -> tuple[str, int | None]:
    """'random:NAME[:layers=N]' -> (NAME, N or None)."""
    body = str(path)[len(PREFIX):]
    name, _, rest = body.partition(":")
    layers = None
    if rest:
        key, _, value = rest.partition("=")
        if key != "layers" or not value.isdigit() or int(value) < 1:
            raise UserError(f"bad random-weights spec {path!r} (expected random:NAME[:layers=N])")
        layers = int(value)
    if name not in (LLM, CLIP_TEXT, CLIP_VISION):
        raise UserError(f"unknown random-weights tower {name!r} (known: {LLM}, {CLIP_TEXT}, {CLIP_VISION})")
    return name, layers


def random_overrides(num_layers: int | None = None) -> dict[str, Any]:
    """HMVLMConfig overrides of a paper-preset smoke run with random towers."""
    if num_layers is not None and num_layers < 2:
        raise UserError("num_layers must be >= 2 (LLaVA reads CLIP's second-to-last layer)")
    return dict(SMOKE_OVERRIDES, llm="path", llm_path=random_path(LLM, num_layers),
                gate_encoder="clip", gate_encoder_path=random_path(CLIP_TEXT, num_layers),
                vision="clip", vision_path=random_path(CLIP_VISION, num_layers))


def _layers(path: str, default: int) -> int:
    return parse(path)[1] or default


def random_llm(path: str, seed: int, dtype: Any) -> tuple[Any, Any]:
    """(LlamaForCausalLM at Llama-2-7B shapes with random weights, SmolLM2 tokenizer)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from hmvlm_bench.assets import load_smollm2_tokenizer

    tok = load_smollm2_tokenizer()
    kw = dict(LLAMA2_7B, num_hidden_layers=_layers(path, LLAMA2_7B["num_hidden_layers"]),
              vocab_size=max(LLAMA2_7B["vocab_size"], len(tok)))
    cfg = LlamaConfig(**kw, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        prev = torch.get_default_dtype()
        torch.set_default_dtype(dtype)  # build in the target dtype: 7B in fp32 would need 27 GB
        try:
            model = LlamaForCausalLM(cfg)
        finally:
            torch.set_default_dtype(prev)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return model.eval(), tok


def random_clip_text(path: str, seed: int = 0) -> tuple[Any, Any]:
    """(CLIPTextModelWithProjection at ViT-L/14 shapes, SmolLM2 tokenizer)."""
    import torch
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    from hmvlm_bench.assets import load_smollm2_tokenizer

    tok = load_smollm2_tokenizer()
    cfg = CLIPTextConfig(**dict(CLIP_L14_TEXT, num_hidden_layers=_layers(path, CLIP_L14_TEXT["num_hidden_layers"])),
                         pad_token_id=tok.pad_token_id or 0, eos_token_id=tok.eos_token_id)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPTextModelWithProjection(cfg)
    return model.eval().requires_grad_(False), tok


def random_clip_vision(path: str, seed: int = 0) -> Any:
    """CLIPVisionModel at ViT-L/14 (224 px) shapes with random weights."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModel

    cfg = CLIPVisionConfig(**dict(CLIP_L14_VISION,
                                  num_hidden_layers=_layers(path, CLIP_L14_VISION["num_hidden_layers"])))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPVisionModel(cfg)
    return model.eval().requires_grad_(False)


__all__ = ["CLIP_L14_TEXT", "CLIP_L14_VISION", "LLAMA2_7B", "PREFIX", "SMOKE_OVERRIDES", "is_random", "parse",
           "random_clip_text", "random_clip_vision", "random_llm", "random_overrides", "random_path"]
