"""HMVLMConfig: one dataclass for the reference model and every baseline variant.

A variant is a *delta* over the preset's defaults (peft `method_comparison` habit), one
entry in `reference_model.hmvlm.variants.VARIANTS`: `lora` swaps the adapter, `whole-body`
the motion tokenizer, `no-zero` / `no-gate-loss` switch one MoE-LoRA feature off. Paper values: HMVLM NeurIPS 2025 sec. 3-4 (5 experts of rank 8 incl.
the zero expert on all linear modules, gate MLP hidden 512 over CLIP text features, batch 32
with micro-batch 2, AdamW lr 3e-3 cosine); see /work/shared/DESIGN.md sec. 3.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hmvlm_bench.base_llm import BASE_LLMS, KINDS
from hmvlm_bench.errors import UserError, did_you_mean
from hmvlm_bench.presets import PRESETS as REGISTERED_PRESETS
from hmvlm_bench.presets import PresetTable

ADAPTERS = ("moe_lora", "lora", "full")
GATE_ENCODERS = ("hashing", "minilm", "clip")
MOTION_TOKENIZERS = ("body-part", "whole-body", "whole-body-x5")
LLMS = KINDS  # the base LLMs hmvlm_bench.base_llm loads (each preset's: its BASE_LLMS)


@dataclass(frozen=True)
class HMVLMConfig:
    """Everything that changes a trained HMVLM (goes into the checkpoint's artifact key)."""

    preset: str = field(default="mini", metadata={"help": "tiny | mini | paper"})
    variant: str = field(default="hmvlm", metadata={"help": "registered variant name (provenance)"})
    # --- base LLM ---------------------------------------------------------------------
    llm: str = field(default="smollm2-135m-instruct", metadata={"help": "tiny-llama | smollm2-135m-instruct | path"})
    llm_path: str | None = field(default=None, metadata={"help": "local HF checkpoint dir when llm='path' (paper: Vicuna-7B)"})
    # --- adapter --------------------------------------------------------------------------
    adapter: str = field(default="moe_lora", metadata={"help": "moe_lora | lora | full (full fine-tune)"})
    num_experts: int = field(default=5, metadata={"help": "MoE experts incl. the zero expert (HMVLM: 5)"})
    zero_expert: bool = field(default=True, metadata={"help": "expert 0 is the parameter-free zero expert"})
    lora_r: int = field(default=8, metadata={"help": "rank per expert / of the LoRA (HMVLM: 8)"})
    lora_alpha: float = field(default=16.0, metadata={"help": "LoRA alpha (update scaled by alpha / r)"})
    target_modules: str = field(default="all-linear", metadata={"help": "peft target modules (HMVLM: all linear)"})
    # --- gate -----------------------------------------------------------------------------
    gate_encoder: str = field(default="minilm", metadata={"help": "hashing | minilm | clip"})
    gate_encoder_path: str | None = field(default=None, metadata={"help": "local CLIP/MiniLM dir"})
    gating_loss: bool = field(default=True, metadata={"help": "add L_gat (alpha_0 -> 1 on general prompts)"})
    gate_eta: float = field(default=1.0, metadata={"help": "weight of L_gat (HMVLM: 1)"})
    # --- tokenizers -----------------------------------------------------------------------
    motion_tokenizer: str = field(default="body-part", metadata={"help": "body-part | whole-body | whole-body-x5"})
    tokenizer_steps: int | None = field(default=None, metadata={"help": "override tokenizer training steps"})
    tokenizer_preset: str | None = field(default=None, metadata={
        "help": "tokenizer sizes from another preset (CPU smoke tests of paper; default: this preset)"})
    # --- vision ---------------------------------------------------------------------------
    vision: str = field(default="cnn", metadata={"help": "cnn (small CNN, pretrained on rendered poses) | clip"})
    vision_path: str | None = field(default=None, metadata={"help": "local CLIP ViT-L/14 dir (paper)"})
    image_size: int = field(default=64, metadata={"help": "CNN input side (images are resized)"})
    image_patches: int = field(default=4, metadata={"help": "image tokens fed to the LLM (CNN: a k x k grid, k*k)"})
    vision_width: int = field(default=64, metadata={"help": "CNN channels"})
    vision_pretrain_steps: int = field(default=300, metadata={"help": "CNN joint-regression steps"})
    # --- instruction data -----------------------------------------------------------------
    max_motion_frames: int = field(default=64, metadata={"help": "training crop of motions (frames)"})
    min_motion_frames: int = field(default=40, metadata={"help": "shortest training crop (frames)"})
    motion_crop: str = field(default="random", metadata={
        "help": "t2m/m2t training crops: random (a random window of min..max_motion_frames frames) | "
                "whole (the motion from frame 0, cut at max_motion_frames: what evaluation generates "
                "and captions describe; T2M-GPT and MotionGPT train on whole motions' codes)"})
    task_mix: tuple[tuple[str, float], ...] = field(
        default=(("t2m", 0.35), ("m2t", 0.25), ("pose", 0.15), ("general", 0.25)),
        metadata={"help": "sampling weights of the instruction tasks"})
    t2m_text_share: float | None = field(default=None, metadata={
        "help": "share of t2m samples with the plain-text prompt (the rest split evenly over the "
                "first/last-step hints); unset = one third each (the v1 recipes)"})
    n_general: int = field(default=96, metadata={"help": "general prompts answered by the base model"})
    general_max_new_tokens: int = field(default=48, metadata={"help": "length cap of the base answers"})
    n_pose_images: int = field(default=600, metadata={"help": "rendered frames for pose samples"})
    max_seq_len: int = field(default=256, metadata={"help": "training sequences are cut to this length"})
    # --- optimisation ---------------------------------------------------------------------
    steps: int = field(default=200, metadata={"help": "optimizer steps"})
    batch_size: int = field(default=4, metadata={"help": "samples per optimizer step"})
    micro_batch_size: int = field(default=4, metadata={"help": "samples per forward pass"})
    lr: float = field(default=2e-3, metadata={"help": "AdamW lr of adapter, gate and projector"})
    lr_embed: float = field(default=2e-3, metadata={"help": "AdamW lr of the new token rows"})
    lr_full: float = field(default=5e-5, metadata={"help": "AdamW lr of base weights (full fine-tune)"})
    new_row_init: str = field(default="mean", metadata={
        "help": "init of the new motion/pose token rows: mean (mean text embedding + small noise) | "
                "codebook (mean + a seeded random projection of each code's tokenizer codebook "
                "vector, so codes close in the codebook start close in the LLM)"})
    first_step_weight: float = field(default=1.0, metadata={
        "help": "loss weight of the first motion step of t2m answers (1 = plain mean). The step "
                "the text alone must decide; later steps are mostly predictable from the motion "
                "so far, so in the plain mean the text-conditioning signal is ~5% of a t2m loss"})
    warmup_steps: int = field(default=10, metadata={"help": "linear warm-up, then cosine to 0"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping"})
    checkpoint_every: int = field(default=50, metadata={"help": "resumable checkpoint interval (steps)"})
    precision: str = field(default="auto", metadata={
        "help": "dtype of the frozen base weights in training: auto (bf16 where the device has native "
                "bf16: CUDA, AMX/AVX512-BF16 CPUs; else float32) | float32 | bfloat16. Trainable tensors "
                "stay float32; the resolved choice is recorded in train_log.json"})
    bucket_window: int = field(default=0, metadata={
        "help": "length bucketing: sort samples by token length within windows of this many steps "
                "(0 = off, steps hold the samples in drawn order)"})
    val_every: int = field(default=0, metadata={"help": "learning-curve interval (steps; 0 = off)"})
    val_items: int = field(default=32, metadata={"help": "val-split motions of each learning-curve point"})
    seed: int = field(default=0, metadata={"help": "seed of init, data and sampling"})
    # --- decoding -------------------------------------------------------------------------
    t2m_top_k: int = field(default=20, metadata={"help": "t2m sampling top-k (0 = greedy)"})
    caption_max_new_tokens: int = field(default=40, metadata={"help": "caption length cap"})
    save_dtype: str = field(default="float16", metadata={"help": "dtype of trained tensors on disk"})

    def __post_init__(self) -> None:
        def need(cond: bool, msg: str) -> None:
            if not cond:
                raise UserError(f"HMVLM config: {msg}")

        need(self.preset in PRESETS, f"unknown preset '{self.preset}'{did_you_mean(self.preset, PRESETS)}")
        need(self.llm in LLMS, f"unknown llm '{self.llm}' (known: {', '.join(LLMS)})")
        need(self.llm != "path" or bool(self.llm_path), "llm='path' needs llm_path=DIR (e.g. Vicuna-7B)")
        need(self.adapter in ADAPTERS, f"unknown adapter '{self.adapter}' (known: {', '.join(ADAPTERS)})")
        need(self.gate_encoder in GATE_ENCODERS, f"unknown gate encoder '{self.gate_encoder}'")
        need(self.gate_encoder != "clip" or bool(self.gate_encoder_path), "the clip gate needs gate_encoder_path")
        need(self.tokenizer_preset in (None, *PRESETS), f"unknown tokenizer_preset '{self.tokenizer_preset}'")
        need(self.motion_tokenizer in MOTION_TOKENIZERS, f"unknown motion tokenizer '{self.motion_tokenizer}'")
        need(self.vision in ("cnn", "clip"), f"unknown vision encoder '{self.vision}'")
        need(self.vision != "clip" or bool(self.vision_path), "the clip vision encoder needs vision_path")
        need(self.num_experts >= (2 if self.zero_expert else 1), "too few experts")
        need(self.lora_r >= 1 and self.lora_alpha > 0, "lora_r >= 1 and lora_alpha > 0")
        need(self.steps >= 1 and self.batch_size >= 1 and self.micro_batch_size >= 1, "steps and batch sizes >= 1")
        need(self.batch_size % self.micro_batch_size == 0, "batch_size must be a multiple of micro_batch_size")
        need(4 <= self.min_motion_frames <= self.max_motion_frames, "4 <= min_motion_frames <= max_motion_frames")
        need(all(w >= 0 for _, w in self.task_mix) and sum(w for _, w in self.task_mix) > 0, "task_mix weights")
        need({t for t, _ in self.task_mix} <= {"t2m", "m2t", "pose", "general"}, "task_mix tasks: t2m m2t pose general")
        need(int(self.image_patches ** 0.5) ** 2 == self.image_patches, "image_patches must be a square")
        need(self.save_dtype in ("float32", "float16", "bfloat16"), "save_dtype: float32 | float16 | bfloat16")
        need(self.precision in ("auto", "float32", "bfloat16"), "precision: auto | float32 | bfloat16")
        need(self.new_row_init in ("mean", "codebook"), "new_row_init: mean | codebook")
        need(self.first_step_weight > 0, "first_step_weight > 0")
        need(self.motion_crop in ("random", "whole"), "motion_crop: random | whole")
        need(self.t2m_text_share is None or 0.0 <= self.t2m_text_share <= 1.0, "t2m_text_share in [0, 1]")
        need(self.bucket_window >= 0 and self.val_every >= 0 and self.val_items >= 2,
             "bucket_window >= 0, val_every >= 0, val_items >= 2")

    # ------------------------------------------------------------------------------
    @property
    def uses_gate(self) -> bool:
        return self.adapter == "moe_lora"

    @property
    def task_weights(self) -> dict[str, float]:
        return dict(self.task_mix)

    @property
    def grad_accum(self) -> int:
        return self.batch_size // self.micro_batch_size

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["task_mix"] = [list(x) for x in self.task_mix]
        # added later: absent at their defaults, so older artifact keys hold
        for name, default in LATER_FIELDS.items():
            if d[name] == default:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HMVLMConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"HMVLM config has unknown keys: {', '.join(unknown)}")
        data = dict(data)
        if "task_mix" in data:
            data["task_mix"] = tuple((str(t), float(w)) for t, w in data["task_mix"])
        return cls(**data)

    def replace(self, **changes: Any) -> "HMVLMConfig":
        return replace(self, **changes)

    @classmethod
    def for_preset(cls, preset: str, variant: str = "hmvlm", recipe: str | None = None,
                   **overrides: Any) -> "HMVLMConfig":
        """Preset sizes + the recipe (default: the preset's, `DEFAULT_RECIPE`) + the
        variant's delta + explicit overrides (last wins; None = not given)."""
        if preset not in REGISTERED_PRESETS:
            raise UserError(f"unknown preset '{preset}'{did_you_mean(preset, REGISTERED_PRESETS)}"
                            f" (known: {', '.join(REGISTERED_PRESETS)})")
        base: dict[str, Any] = {"llm": BASE_LLMS[preset], **PRESET_VALUES[preset]}
        base.update(recipe_values(recipe or DEFAULT_RECIPE.get(preset, "v1")))
        from reference_model.hmvlm.variants import variant_delta

        base.update(variant_delta(variant))
        base.update({k: v for k, v in overrides.items() if v is not None})
        base.update(preset=preset, variant=variant)
        if "task_mix" in base and not isinstance(base["task_mix"], tuple):
            base["task_mix"] = tuple((str(t), float(w)) for t, w in dict(base["task_mix"]).items())
        return cls(**base)


# Fields added after checkpoints were shipped, with the value that reproduces the older
# behaviour: left out of `to_dict` at that value so older artifact keys still match.
LATER_FIELDS: dict[str, Any] = {"tokenizer_preset": None, "precision": "auto", "bucket_window": 0,
                                "val_every": 0, "val_items": 32, "t2m_text_share": None,
                                "new_row_init": "mean", "first_step_weight": 1.0,
                                "motion_crop": "random"}


# Per-preset values (only what differs from the dataclass defaults, which are `mini`; the
# base LLM is hmvlm_bench.base_llm.BASE_LLMS, shared with lm-eval): one entry per registered
# preset (hmvlm_bench.presets; tests/core/test_preset_tables.py checks).
PRESET_VALUES: PresetTable[dict[str, Any]] = PresetTable("HMVLM model config", {
    # random tiny Llama, hashing gate: trains in seconds (tests)
    "tiny": dict(gate_encoder="hashing", steps=12, batch_size=4, micro_batch_size=2,
                 lr=1e-2, lr_embed=1e-2, warmup_steps=2, n_general=8, general_max_new_tokens=8,
                 n_pose_images=24, max_motion_frames=32, min_motion_frames=16, vision_pretrain_steps=20,
                 image_size=32, vision_width=16, checkpoint_every=5, caption_max_new_tokens=12,
                 max_seq_len=160, save_dtype="float32"),
    # SmolLM2-135M-Instruct + MiniLM gate: ~200 steps on 2 CPU cores (DESIGN.md sec. 7 timings)
    "mini": dict(),
    # HMVLM paper: Vicuna-7B by path, CLIP gate/vision, batch 32 micro 2, lr 3e-3 cosine
    "paper": dict(gate_encoder="clip", vision="clip", steps=3000, batch_size=32,
                  micro_batch_size=2, lr=3e-3, lr_embed=3e-3, lr_full=2e-5, warmup_steps=100,
                  max_motion_frames=196, n_general=102, general_max_new_tokens=256, n_pose_images=20000,
                  image_size=224, image_patches=256, max_seq_len=1024, checkpoint_every=200,
                  save_dtype="bfloat16"),
})
PRESETS = PRESET_VALUES  # the presets this config knows (the same table, by its older name)

# Training recipes: named deltas over a preset's values, picked with the model arg
# `recipe=NAME` (training and evaluation alike: another recipe is another checkpoint).
# `long` (issue 14) is sized to ~75 CPU-minutes per variant on one core: crops span the
# test lengths (40-196 frames, so t2m/m2t never meet a longer motion than trained on), a
# t2m-heavy mix, the paper's adapter lr 3e-3, lr 1e-2 for the new token rows (they start
# from the mean embedding), length-bucketed steps and a learning curve every 100 steps.
# It is not the mini default: at 400 steps it forgets far more than the default recipe
# and is no better on t2m (README, "Training the mini models").
# `learn` (issue 14, session 4) aims the same CPU budget at the text -> motion mapping, the
# weak point of `long` (its val R@3 stayed near chance with the text alone while the
# hinted variants learned): 60% of t2m prompts carry the text alone, crops of 40-120 frames
# (cheaper steps, so ~2x the samples of `long` per CPU-minute), new token rows initialised
# from the tokenizer codebooks, the first motion step of t2m answers weighted 5x in the
# loss (with a hint given, `long` reached val R@3 0.6-0.7: the model continues a motion
# well; deciding the first step from the text is the weak link), 1,000 steps, a val point
# every 200 steps. Outcome (README, "Recipe learn"): test t2m R@3 0.115 / 0.118 (hmvlm /
# lora), forgetting 62.5% / 50.8%: opt-in, not the default.
RECIPES: dict[str, dict[str, Any]] = {
    "v1": {},  # the preset's own values: the recipe of the first shipped checkpoints
    "learn": dict(steps=1000, max_motion_frames=120, min_motion_frames=40, max_seq_len=256,
                  task_mix=(("t2m", 0.5), ("m2t", 0.2), ("pose", 0.1), ("general", 0.2)), t2m_text_share=0.6,
                  new_row_init="codebook", first_step_weight=5.0, lr=3e-3, lr_embed=1e-2, warmup_steps=30,
                  bucket_window=16, val_every=200, val_items=32),
    # `whole` (issue 14, session 6): `learn` with t2m/m2t trained on whole motions from frame
    # 0 (cut at 120 frames) instead of random windows, and 80% of t2m prompts text-only.
    # Evaluation generates a motion from its start and captions describe whole motions, so
    # random windows taught a first step that evaluation never asks for (the label-ceiling
    # probe: the leg action is worth 0.68 nats on a random window's first step, 0.85 on
    # frame 0's). Outcome (README, "Recipe whole"): test t2m R@3 0.192 / 0.268 (hmvlm /
    # lora; 0.295 / 0.304 with cfg_scale=3), forgetting 62.5% / 54.0%: opt-in, not the default.
    "whole": dict(steps=1000, max_motion_frames=120, min_motion_frames=40, max_seq_len=256,
                  task_mix=(("t2m", 0.5), ("m2t", 0.2), ("pose", 0.1), ("general", 0.2)), t2m_text_share=0.8,
                  motion_crop="whole", new_row_init="codebook", first_step_weight=5.0, lr=3e-3, lr_embed=1e-2,
                  warmup_steps=30, bucket_window=16, val_every=200, val_items=32),
    "long": dict(steps=400, max_motion_frames=196, min_motion_frames=40, max_seq_len=320,
                 task_mix=(("t2m", 0.45), ("m2t", 0.2), ("pose", 0.15), ("general", 0.2)),
                 lr=3e-3, lr_embed=1e-2, warmup_steps=20, bucket_window=16, val_every=100, val_items=32),
}

# The recipe a preset trains and evaluates when no `recipe=` model arg is given.
DEFAULT_RECIPE: dict[str, str] = {}


def recipe_values(name: str) -> dict[str, Any]:
    if name not in RECIPES:
        raise UserError(f"unknown recipe '{name}'{did_you_mean(name, RECIPES)} (known: {', '.join(RECIPES)})")
    return dict(RECIPES[name])


def __getattr__(name: str) -> Any:
    """`VARIANT_DELTAS` (variant -> delta), kept for older imports: a copy drawn from the
    variant entries in `reference_model.hmvlm.variants.VARIANTS`, where variants live."""
    if name == "VARIANT_DELTAS":
        from reference_model.hmvlm.variants import VARIANTS

        return {n: dict(v.delta) for n, v in VARIANTS.items() if v.kind == "model"}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------- local model paths
# paper preset inputs: config field, value that needs a path, model arg, what it is
PAPER_PATHS = (("llm", "path", "llm_path", "Vicuna-7B / Gemma-2-2b-it HF folder"),
               ("gate_encoder", "clip", "clip_text_path", "CLIP ViT-L/14 text tower folder"),
               ("vision", "clip", "clip_vision_path", "CLIP ViT-L/14 vision tower folder"))


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def model_arg_overrides(args: dict[str, Any]) -> dict[str, Any]:
    """Config overrides from model args (`llm_path`, `clip_path`, `clip_text_path`,
    `clip_vision_path`, `recipe`, `steps`, `train_seed`): the one mapping used by evaluation
    (`--model-args`) and training (`train model --model-args`). `train_seed` seeds training
    (data order, adapter init, vision CNN, general prompts): another seed is another
    checkpoint. (`run --seed` is a different thing: the evaluation's request seeds.)"""
    over: dict[str, Any] = {}
    if args.get("llm_path"):
        over.update(llm="path", llm_path=str(args["llm_path"]))
    if args.get("clip_path"):
        over.update(gate_encoder_path=str(args["clip_path"]), vision_path=str(args["clip_path"]))
    if args.get("clip_text_path"):
        over["gate_encoder_path"] = str(args["clip_text_path"])
    if args.get("clip_vision_path"):
        over["vision_path"] = str(args["clip_vision_path"])
    if args.get("recipe"):  # resolved by `HMVLMConfig.for_preset` (checked here, early)
        over["recipe"] = str(args["recipe"])
        recipe_values(over["recipe"])
    if args.get("steps"):
        over["steps"] = int(args["steps"])
    if args.get("train_seed") not in (None, ""):
        try:
            over["seed"] = int(args["train_seed"])
        except ValueError:
            raise UserError(f"model arg train_seed={args['train_seed']!r} is not an integer") from None
    return over


def missing_paths(preset: str, args: dict[str, Any], variant: str = "hmvlm") -> list[str]:
    """The local model folders a preset's variant needs that `args` does not give (paper:
    the LLM, the CLIP text tower for the MoE gate, the CLIP vision tower), each as the
    `--model-args` to add; empty with random weights."""
    if truthy(args.get("random_weights", False)):
        return []
    from reference_model.hmvlm.variants import VARIANTS

    delta = VARIANTS[variant].delta if variant in VARIANTS else {}
    values = {"llm": BASE_LLMS.get(preset), **PRESET_VALUES.get(preset, {}), **delta}
    adapter = values.get("adapter", HMVLMConfig.adapter)  # the dataclass default (moe_lora)
    missing: list[str] = []
    for field_name, needs, arg, what in PAPER_PATHS:
        if values.get(field_name) != needs or (field_name == "gate_encoder" and adapter != "moe_lora"):
            continue  # a plain LoRA / full fine-tune has no gate
        given = args.get(arg) or (args.get("clip_path") if arg.startswith("clip_") else None)
        if not given:
            missing.append(f"--model-args {arg}=DIR ({what})")
        elif not Path(str(given)).is_dir():
            missing.append(f"--model-args {arg}={given} (no such directory)")
    return missing
