"""HMVLM variants: one `Variant` entry each, in `VARIANTS` (the one place a variant lives).

A variant is a *delta* over the preset's `HMVLMConfig` (peft `method_comparison` habit);
everything else is derived from its entry: `HMVLMConfig.for_preset(preset, name)` applies
the delta, `register_variants` registers its model class (built here, a subclass of
`HMVLMModel`, or of `TokenizerModel` for a tokenizer-only row), and `train model --variant`
accepts it. Ablations of the HMVLM paper:
- `lora` / `full-ft`: plain peft LoRA r=8 on all linears / full fine-tune (no gate, no zero
  expert; full-ft checkpoints hold the whole LLM, too large to ship);
- `whole-body`: one-stream T2M-GPT VQ-VAE (K = preset size) instead of body parts;
  `whole-body-x5`: the same with a 5x larger codebook;
- `no-zero`: MoE-LoRA with 4 trainable experts and no zero expert (L_gat then pulls general
  prompts to expert 0, a trainable one, so only the zero expert's effect differs);
- `no-gate-loss`: MoE-LoRA with the zero expert but without L_gat.
Tokenizer-only rows for the reconstruction task (`kind="tokenizer"`) are the motion
tokenizer their delta names (`motion_tokenizer`), trained and evaluated alone.

Light on import (no torch, no model code): plugins and the config read this table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from hmvlm_bench.errors import UserError, did_you_mean

KINDS = ("model", "tokenizer")


@dataclass(frozen=True)
class Variant:
    """One registered variant: its name, its delta over the preset's `HMVLMConfig`, a one-line
    description (`hmvlm-bench ls models`) and its kind: `model` (an HMVLM-shaped BenchModel,
    trained by `train model --variant NAME`) or `tokenizer` (the motion tokenizer its delta
    names, alone: the reconstruction task's rows)."""

    name: str
    delta: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    kind: str = "model"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"variant '{self.name}': kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        from reference_model.hmvlm.config import HMVLMConfig  # light: dataclasses only

        known = set(HMVLMConfig.__dataclass_fields__) - {"preset", "variant"}
        unknown = sorted(set(self.delta) - known)
        if unknown:
            raise ValueError(f"variant '{self.name}': delta names unknown HMVLMConfig fields: {', '.join(unknown)}")
        object.__setattr__(self, "delta", MappingProxyType(dict(self.delta)))

    @property
    def class_name(self) -> str:
        """The generated BenchModel class's name (`no-gate-loss` -> `NoGateLossModel`)."""
        return "".join(p[:1].upper() + p[1:] for p in self.name.replace("_", "-").split("-")) + "Model"

    @property
    def target(self) -> str:
        """The lazy registry target of its model class."""
        return f"{__name__}:{self.class_name}"


# The registered variants, in the order `ls models` groups them. A new variant: one entry.
VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("hmvlm", {}, "HMVLM: body-part tokens + MoE-LoRA with zero expert and prompt gate"),
    Variant("lora", dict(adapter="lora"), "plain LoRA r=8 on all linears (no gate, no zero expert)"),
    Variant("full-ft", dict(adapter="full"), "full fine-tune of the base LLM"),
    Variant("whole-body", dict(motion_tokenizer="whole-body"),
            "HMVLM with a whole-body (single-stream) motion tokenizer"),
    Variant("whole-body-x5", dict(motion_tokenizer="whole-body-x5"),
            "HMVLM with a whole-body tokenizer of 5x codebook"),
    Variant("no-zero", dict(zero_expert=False, num_experts=4), "MoE-LoRA without the zero expert"),
    Variant("no-gate-loss", dict(gating_loss=False), "MoE-LoRA without the gating loss"),
    Variant("tokenizer-body-part", {}, "HMVLM body-part motion tokenizer alone (reconstruction)",
            kind="tokenizer"),
    Variant("tokenizer-whole-body", dict(motion_tokenizer="whole-body"),
            "whole-body K tokenizer alone (reconstruction)", kind="tokenizer"),
    Variant("tokenizer-whole-body-x5", dict(motion_tokenizer="whole-body-x5"),
            "whole-body 5K tokenizer alone (reconstruction)", kind="tokenizer"),
)}


def add_variant(variant: Variant, regs: Any = None) -> Variant:
    """Register a variant from outside this table (an `--include-path` plugin): add it to
    `VARIANTS` and, given the plugin's `Registries`, register its model."""
    if variant.name in VARIANTS and VARIANTS[variant.name] != variant:
        raise ValueError(f"variant '{variant.name}' is already registered")
    VARIANTS[variant.name] = variant
    _ADDED.add(variant.name)
    if regs is not None:
        _register(regs, variant)
    return variant


_ADDED: set[str] = set()  # added by plugins: registered by them, not by `register_variants`


def get_variant(name: str, kind: str = "model") -> Variant:
    names = variant_names(kind)
    if name not in names:
        raise UserError(f"unknown HMVLM variant '{name}'{did_you_mean(name, names)} (known: {', '.join(names)})")
    return VARIANTS[name]


def variant_names(kind: str = "model") -> list[str]:
    return [n for n, v in VARIANTS.items() if v.kind == kind]


def variant_delta(name: str) -> dict[str, Any]:
    """The config delta of a `model` variant (UserError with did-you-mean when unknown)."""
    return dict(get_variant(name).delta)


# ------------------------------------------------------------------------ model classes
_CLASSES: dict[str, type] = {}


def variant_model(name: str) -> type:
    """The BenchModel class of a registered variant (built once, then the same object):
    `HMVLMModel` / `TokenizerModel` themselves for `hmvlm` / `tokenizer-body-part`, else a
    subclass that only names the variant."""
    if name not in VARIANTS:
        raise UserError(f"unknown variant '{name}'{did_you_mean(name, VARIANTS)}")
    if name not in _CLASSES:
        v = VARIANTS[name]
        if v.kind == "model":
            from reference_model.hmvlm.model import HMVLMModel as base

            attrs: dict[str, Any] = {"variant": name}
        else:
            from reference_model.hmvlm.tokenizer_model import TokenizerModel as base

            attrs = {"tokenizer_variant": v.delta.get("motion_tokenizer", "body-part")}
        if base.name == name and all(getattr(base, k) == a for k, a in attrs.items()):
            cls = base
        else:
            doc = f"The `{name}` variant ({v.description}): delta {dict(v.delta)} over the preset's HMVLMConfig."
            cls = type(v.class_name, (base,), {"__doc__": doc, "__module__": __name__, "name": name, **attrs})
        _CLASSES[name] = cls
    return _CLASSES[name]


def __getattr__(attr: str) -> type:
    """Lazy registry targets `reference_model.hmvlm.variants:<ClassName>`."""
    for v in VARIANTS.values():
        if v.class_name == attr:
            return variant_model(v.name)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


# ------------------------------------------------------------------------ registration
def _register(regs: Any, v: Variant) -> None:
    # `trainer` tells the core which `train` command builds it (`train model --variant NAME`)
    regs.models.register(v.name, v.target, description=v.description,
                         **({"trainer": "model"} if v.kind == "model" else {}))


def register_variants(regs: Any) -> None:
    """Register every variant's model (called once, by `reference_model.plugin`)."""
    for v in VARIANTS.values():
        if v.name not in _ADDED:
            _register(regs, v)
