"""Configuration of the motion/pose tokenizers and their whole-body baselines.

Defaults follow HMVLM (NeurIPS 2025, sec. 3.4: 5 parts, K=512, 512-d, l=4) and the
T2M-GPT VQ-VAE recipe it says it trains with (Mael-zys/T2M-GPT `options/option_vq.py`
and the README `train_vq.py` command for HumanML3D).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from hmvlm_bench.errors import UserError
from hmvlm_bench.presets import PRESETS as REGISTERED_PRESETS
from hmvlm_bench.presets import PresetTable

Variant = Literal["body-part", "pose", "whole-body", "whole-body-x5"]
VARIANTS: tuple[str, ...] = ("body-part", "pose", "whole-body", "whole-body-x5")

# Named sizes per preset (what differs from the dataclass defaults, which are `paper` =
# HMVLM/T2M-GPT): one entry per registered preset (tests/core/test_preset_tables.py checks).
PRESET_VALUES: PresetTable[dict[str, Any]] = PresetTable("tokenizer config", {
    "paper": {},
    # spatial_dim dominates CPU cost (27 tokens per frame); 32 keeps a step ~0.25 s
    "mini": dict(codebook_size=256, code_dim=128, width=128, depth=2, spatial_dim=32,
                 spatial_layers=1, spatial_heads=2, lr=1e-3, batch_size=32, window=64,
                 steps=1200, warmup_steps=100, lr_decay_at=1000, lr_gamma=0.2),
    "tiny": dict(codebook_size=32, code_dim=32, width=32, depth=1, spatial_dim=32,
                 spatial_layers=1, spatial_heads=2, lr=2e-3, batch_size=8, window=32,
                 steps=40, warmup_steps=5, lr_decay_at=10_000, mu=0.9),
})
PRESETS = PRESET_VALUES  # the presets the tokenizer knows (the same table, by its older name)


@dataclass(frozen=True)
class TokenizerConfig:
    """Architecture + training hyper-parameters. One JSON object in `config.json`."""

    variant: str = field(default="body-part", metadata={"help": "body-part | pose | whole-body | whole-body-x5"})
    preset: str = field(default="paper", metadata={"help": "preset the values came from (provenance only)"})
    codebook_size: int = field(default=512, metadata={"help": "K codes per stream (HMVLM: 512 per part)"})
    code_dim: int = field(default=512, metadata={"help": "code vector width (HMVLM: 512)"})
    width: int = field(default=512, metadata={"help": "temporal conv width (T2M-GPT --width 512)"})
    depth: int = field(default=3, metadata={"help": "resnet1d blocks per stage (T2M-GPT --depth 3)"})
    dilation_growth_rate: int = field(default=3, metadata={"help": "T2M-GPT --dilation-growth-rate 3"})
    down_t: int = field(default=2, metadata={"help": "stride-2 stages; 2**down_t = l = 4 (HMVLM, T2M-GPT --down-t 2)"})
    spatial_dim: int = field(default=512, metadata={"help": "joint-token width of the spatial transformer"})
    spatial_layers: int = field(default=2, metadata={"help": "spatial transformer layers"})
    spatial_heads: int = field(default=8, metadata={"help": "spatial transformer attention heads"})
    mu: float = field(default=0.99, metadata={"help": "EMA decay of the codebook (T2M-GPT --mu 0.99)"})
    commit: float = field(default=0.02, metadata={"help": "commitment weight (HMVLM/T2M-GPT 0.02)"})
    loss_pos: float = field(default=0.5, metadata={"help": "weight of the ric position term (T2M-GPT --loss-vel 0.5)"})
    lr: float = field(default=2e-4, metadata={"help": "AdamW lr (HMVLM 2e-4), betas (0.9, 0.99)"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay (T2M-GPT 0.0)"})
    batch_size: int = field(default=256, metadata={"help": "windows per step (T2M-GPT README 256)"})
    window: int = field(default=64, metadata={"help": "frames per training window (T2M-GPT 64)"})
    steps: int = field(default=300_000, metadata={"help": "training steps (T2M-GPT README 300k)"})
    warmup_steps: int = field(default=1000, metadata={"help": "linear lr warm-up (T2M-GPT 1000)"})
    lr_decay_at: int = field(default=200_000, metadata={"help": "step where lr *= lr_gamma (T2M-GPT 200k)"})
    lr_gamma: float = field(default=0.05, metadata={"help": "lr decay factor (T2M-GPT 0.05)"})

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise UserError(f"unknown tokenizer variant '{self.variant}' (known: {', '.join(VARIANTS)})")
        for name in ("codebook_size", "code_dim", "width", "depth", "spatial_dim", "spatial_layers",
                     "spatial_heads", "batch_size", "window", "steps", "dilation_growth_rate"):
            if int(getattr(self, name)) < 1:
                raise UserError(f"tokenizer config: {name} must be >= 1, got {getattr(self, name)}")
        if self.down_t < 0:
            raise UserError(f"tokenizer config: down_t must be >= 0, got {self.down_t}")
        if self.spatial_dim % self.spatial_heads:
            raise UserError("tokenizer config: spatial_dim must be divisible by spatial_heads")
        if not 0.0 < self.mu < 1.0:
            raise UserError(f"tokenizer config: mu must be in (0, 1), got {self.mu}")
        if self.window % self.downsample:
            raise UserError(f"tokenizer config: window {self.window} must be a multiple of {self.downsample}")

    @property
    def downsample(self) -> int:
        """Frames per code step (l). Poses are per frame."""
        return 1 if self.variant == "pose" else 2 ** self.down_t

    @classmethod
    def for_preset(cls, preset: str, variant: str = "body-part", **overrides: Any) -> "TokenizerConfig":
        """Named sizes (`PRESET_VALUES`). `paper` = HMVLM/T2M-GPT; `mini` trains in minutes on
        2 CPU cores; `tiny` trains in seconds (tests). The x5 baseline multiplies K by 5 (HMVLM
        ablation)."""
        if preset not in REGISTERED_PRESETS:
            raise UserError(f"unknown tokenizer preset '{preset}' (known: {', '.join(REGISTERED_PRESETS)})")
        base = dict(PRESET_VALUES[preset], variant=variant, preset=preset)
        if variant == "whole-body-x5":
            base["codebook_size"] = 5 * base.get("codebook_size", cls.codebook_size)
        if variant == "pose":
            # single frames: one window of 64 frames ~ 16 pose samples' worth of compute
            base["window"] = 1
            base["batch_size"] = 16 * base.get("batch_size", cls.batch_size)
        base.update(overrides)
        return cls(**base)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TokenizerConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"tokenizer config has unknown keys: {', '.join(unknown)}")
        return cls(**data)

    def replace(self, **changes: Any) -> "TokenizerConfig":
        return replace(self, **changes)
