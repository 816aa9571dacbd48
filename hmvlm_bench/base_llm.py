"""The one loader of a base LLM: the reference model builds on it
(`reference_model.hmvlm.network.load_base_llm`) and the lm-eval backend scores it
(`hmvlm_bench.lm_eval_adapter.build_lm_backend`, `model=base`), so the forgetting task's
tuned row and base row start from weights loaded the same way.

Three kinds, offline only:

- `tiny-llama`: a random 2-layer Llama with SmolLM2's tokenizer (weights from `seed`),
  always float32;
- `smollm2-135m-instruct`: SmolLM2-135M-Instruct de-quantised from the shipped GGUF
  (`hmvlm_bench.assets.load_smollm2`), in `dtype` (float32 unless told);
- with `path`: a local Hugging Face causal LM folder (e.g. Vicuna-7B; `name` only names
  it), in `dtype` (a torch dtype, or "auto" for the dtype stored in the checkpoint).

The dtype is the caller's to state; the two callers differ only on a local folder (the
`paper` preset), where each keeps what it did before this loader existed:

- the reference model (training and generation) loads bfloat16 on CUDA and float32 on
  CPU, whatever the checkpoint stores: its adapters train in that precision and the
  rest of the model (gate, vision projector) is cast to match;
- the lm-eval backend of the untouched base LLM loads "auto", the checkpoint's own dtype
  (float16 for Vicuna-7B v1.5), as lm-eval's own `hf` model does by default, so its
  scores are those a stock lm-eval run of the base model gives.

So on `paper` the forgetting task's base row (float16) and tuned row (bfloat16 on GPU)
differ in precision as well as in weights; on `tiny` and `mini` both are float32 and
identical. The model is returned in eval mode.

`BASE_LLMS` names each preset's base LLM, read by both callers
(`reference_model.hmvlm.config.HMVLMConfig.for_preset` and `build_lm_backend`);
`builtin_fingerprint` is the identity of a built-in one's weights, without loading them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hmvlm_bench.errors import UserError
from hmvlm_bench.presets import PresetTable

TINY_LLAMA = "tiny-llama"
SMOLLM2 = "smollm2-135m-instruct"
BUILTIN = (TINY_LLAMA, SMOLLM2)
PATH = "path"  # a local folder, given as llm_path=DIR
KINDS = (*BUILTIN, PATH)  # every value a config's `llm` may take

# The base LLM of each preset (PATH: the preset needs llm_path=DIR)
BASE_LLMS: PresetTable[str] = PresetTable("base LLM", {
    "tiny": TINY_LLAMA, "mini": SMOLLM2, "paper": PATH})


def builtin_fingerprint(name: str, *, seed: int = 0) -> str:
    """Identity of built-in base LLM `name`'s weights, without loading them (a local
    folder's identity is its caller's: the model's artifact key digests the folder's
    bytes, the lm-eval backend names its resolved path)."""
    if name == TINY_LLAMA:
        return f"tiny-llama:h64-l2-seed{seed}"
    if name == SMOLLM2:
        from hmvlm_bench.assets import smollm2_fingerprint

        return smollm2_fingerprint()
    raise UserError(f"base LLM '{name}' is not built in ({', '.join(BUILTIN)}): give its local folder")


def load_base_llm(name: str, *, path: str | Path | None = None, seed: int = 0, dtype: Any = None,
                  random_weights: bool = False, local_files_only: bool = True,
                  pad_token: bool = False) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of base LLM `name` (see the module doc).

    `random_weights`: a local folder's architecture with freshly initialised weights
    (throughput and smoke runs). `pad_token`: give a tokenizer without a pad token its
    unk (else eos) token as pad, as training's collate needs; the lm-eval backend pads
    with eos itself and leaves the tokenizer alone."""
    from hmvlm_bench import assets

    if path is None:
        if name == TINY_LLAMA:
            if dtype not in (None, "float32") and str(dtype) != "torch.float32":
                raise UserError(f"{TINY_LLAMA} is float32 only, got dtype {dtype}")
            return assets.tiny_llama(seed=seed)
        if name == SMOLLM2:
            return assets.load_smollm2(dtype=dtype)
        raise UserError(f"base LLM '{name}' is not built in ({', '.join(BUILTIN)}): give its local folder")
    if not Path(path).is_dir():
        raise UserError(f"llm_path {path} is not a local directory (no model hub here)")
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    import torch

    dtype = torch.float32 if dtype is None else dtype
    tok = AutoTokenizer.from_pretrained(path, local_files_only=local_files_only)
    if random_weights:
        model = AutoModelForCausalLM.from_config(
            AutoConfig.from_pretrained(path, local_files_only=local_files_only), dtype=dtype)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=local_files_only, dtype=dtype)
    if pad_token and tok.pad_token_id is None:
        tok.pad_token = tok.unk_token or tok.eos_token
    return model.eval(), tok


__all__ = ["BASE_LLMS", "BUILTIN", "KINDS", "PATH", "SMOLLM2", "TINY_LLAMA", "builtin_fingerprint",
           "load_base_llm"]
