"""Tokenizer-only BenchModels for the reconstruction task (capability tokenize_motion)."""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

from hmvlm_bench.contracts import BenchModel, Capability, ModelArg, Prediction, TokenizeRequest, stable_hash


class TokenizerModel(BenchModel):
    """A trained motion tokenizer (artifact `tokenizer` for (preset, variant, data))."""

    name: ClassVar[str] = "tokenizer-body-part"
    tokenizer_variant: ClassVar[str] = "body-part"
    capabilities = frozenset({Capability.TOKENIZE_MOTION})
    arguments = {"train_data": ModelArg("dataset the tokenizer is trained on (default synthetic)")}

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._tok: Any = None

    @classmethod
    def _key(cls, ctx: Any) -> dict[str, Any]:
        from reference_model.hmvlm.training import tokenizer_key

        data = str(ctx.model_args.get("train_data", "synthetic"))
        return tokenizer_key(ctx.preset.name, cls.tokenizer_variant, ctx.data.fingerprint(data))

    @classmethod
    def spec(cls, ctx: Any) -> dict[str, Any]:
        return {"name": cls.name, "preset": ctx.preset.name, "artifact": stable_hash(cls._key(ctx))}

    @property
    def tokenizer(self) -> Any:
        if self._tok is None:
            from reference_model.hmvlm.training import tokenizer_artifact
            from reference_model.tokenizer.base import load_tokenizer

            data = str(self.ctx.model_args.get("train_data", "synthetic"))
            path = tokenizer_artifact(self.ctx.artifacts, self.ctx.preset.name, self.tokenizer_variant,
                                      self.ctx.data.root(data), self.ctx.data.fingerprint(data),
                                      progress=self.ctx.progress)
            self._tok = load_tokenizer(path)
        return self._tok

    def reconstruct_motion(self, requests: Sequence[TokenizeRequest]) -> list[Prediction]:
        from reference_model.hmvlm.model import tokenizer_round_trip

        return tokenizer_round_trip(self.tokenizer, requests)

    def close(self) -> None:
        self._tok = None
