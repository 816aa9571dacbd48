"""`base-llm`: the preset's base LLM before any motion tuning (language suites only).

Its row anchors the forgetting table: every tuned model is compared with it.
"""
from __future__ import annotations

from typing import Any

from hmvlm_bench.contracts import BenchModel, Capability, ModelArg


class BaseLLM(BenchModel):
    """The preset's pretrained LLM, untouched (tiny: random tiny Llama; mini: SmolLM2-135M)."""

    name = "base-llm"
    capabilities = frozenset({Capability.LANGUAGE_MODEL})
    arguments = {"llm_path": ModelArg("local HF folder of the base LLM (paper: Vicuna-7B)", "path")}

    @classmethod
    def base_args(cls, ctx: Any) -> dict[str, str]:
        args = {"model": "base", "preset": ctx.preset.name}
        if ctx.model_args.get("llm_path"):
            args["llm_path"] = str(ctx.model_args["llm_path"])
        return args

    @classmethod
    def spec(cls, ctx: Any) -> dict[str, Any]:
        return {"name": cls.name, "base": cls.base_args(ctx), **cls.path_digests(ctx)}

    def lm_backend(self) -> Any:
        from hmvlm_bench.lm_eval_adapter import build_lm_backend

        backend = build_lm_backend(self.base_args(self.ctx))
        backend.base_args = self.base_args(self.ctx)
        backend.is_base = True  # forgetting reuses the cached base scores for this row
        return backend
