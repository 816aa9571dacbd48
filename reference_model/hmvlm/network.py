"""Assembly of the HMVLM network: base LLM + extended vocabulary + adapter + gate + vision.

Used by training (fresh build) and by the BenchModel (build, then load a checkpoint). A
checkpoint folder holds only safetensors + JSON:

    config.json                 HMVLMConfig + vocabulary + format version
    adapter/                    peft adapter (adapter_config.json + adapter_model.safetensors)
    llm.safetensors             full fine-tune only: every base LLM weight
    new_tokens.safetensors      the new vocabulary rows (text rows are never stored or changed)
    gate.safetensors            prompt-gate MLP (MoE variants)
    vision.safetensors          frozen CNN + projector
    stats.safetensors           dataset Mean/Std the tokenizers were trained with
    motion_tokenizer/, pose_tokenizer/   the tokenizers (their own safetensors + config.json)
    train_log.json              loss curve, time, peak RSS
"""
from __future__ import annotations

import json
import shutil
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from hmvlm_bench.errors import UserError
from reference_model.hmvlm.config import HMVLMConfig
from reference_model.hmvlm.vocab import (IMAGE_TOKEN, VocabInfo, extend_vocabulary, init_rows_from_codebooks,
                                         load_new_tokens, new_token_parameters, save_new_tokens)
from reference_model.tokenizer.tokens import markers, stream_names, token_vocabulary

FORMAT_VERSION = 1
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


# ------------------------------------------------------------------------------- base LLM
def load_base_llm(cfg: HMVLMConfig, random_weights: bool = False) -> tuple[Any, Any]:
    """(model in eval mode, tokenizer) of the configured base LLM, offline only, through the
    core loader (`hmvlm_bench.base_llm`). A local folder loads in bfloat16 on CUDA and
    float32 on CPU (the lm-eval base row loads the checkpoint's own dtype: see that module)."""
    from hmvlm_bench import base_llm

    if cfg.llm in base_llm.BUILTIN:
        return base_llm.load_base_llm(cfg.llm, seed=cfg.seed)
    from reference_model import paper_shapes

    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    if paper_shapes.is_random(cfg.llm_path):  # paper shapes, random weights (smoke tests)
        return paper_shapes.random_llm(str(cfg.llm_path), cfg.seed, dtype)
    return base_llm.load_base_llm(cfg.llm, path=Path(cfg.llm_path or ""), seed=cfg.seed, dtype=dtype,
                                  random_weights=random_weights, pad_token=True)


def llm_fingerprint(cfg: HMVLMConfig) -> str:
    """Identity of the base weights, without loading them."""
    from hmvlm_bench import base_llm

    if cfg.llm in base_llm.BUILTIN:
        return base_llm.builtin_fingerprint(cfg.llm, seed=cfg.seed)
    from hmvlm_bench.filehash import tree_digest

    path = Path(cfg.llm_path or "")
    if not path.is_dir():  # preflight names a missing folder; keep the key computable
        import hashlib

        return f"path:{path.name}:{hashlib.sha256(str(path).encode()).hexdigest()[:16]}"
    # the weights' bytes, not just config.json: a folder edited in place is another model
    return f"path:{path.name}:{tree_digest(path)}"


def new_vocabulary(motion_streams: int, motion_k: int, pose_streams: int, pose_k: int) -> list[str]:
    """V = [text, motion tokens, pose tokens, <image>] (HMVLM sec. 3.1; image is our placeholder)."""
    return (token_vocabulary(motion_streams, motion_k, ("motion",))
            + token_vocabulary(pose_streams, pose_k, ("pose",)) + [IMAGE_TOKEN])


@dataclass
class StreamRanges:
    """Token-id ranges of one kind (motion or pose): per stream [start, start + K)."""

    start_marker: int
    end_marker: int
    starts: list[int]
    size: int

    @property
    def n_streams(self) -> int:
        return len(self.starts)


def stream_ranges(vocab: VocabInfo, kind: str, n_streams: int, k: int) -> StreamRanges:
    from reference_model.tokenizer.tokens import code_token

    start, end = markers(kind)  # type: ignore[arg-type]
    starts = [vocab.id(code_token(kind, s, 0)) for s in stream_names(n_streams)]  # type: ignore[arg-type]
    for s, first in zip(stream_names(n_streams), starts):  # contiguity is what the constraint relies on
        if vocab.id(code_token(kind, s, k - 1)) != first + k - 1:  # type: ignore[arg-type]
            raise UserError(f"{kind} stream {s!r} tokens are not contiguous in the vocabulary")
    return StreamRanges(vocab.id(start), vocab.id(end), starts, k)


# ------------------------------------------------------------------------------- network
class HMVLMNetwork(nn.Module):
    """The trainable whole: `llm` (peft-wrapped unless full fine-tune), `gate`, `vision`."""

    def __init__(self, cfg: HMVLMConfig, llm: Any, tokenizer: Any, vocab: VocabInfo, motion_tok: Any,
                 pose_tok: Any, mean: np.ndarray, std: np.ndarray, gate: nn.Module | None,
                 vision: nn.Module | None) -> None:
        super().__init__()
        self.cfg = cfg
        self.llm = llm
        self.tokenizer = tokenizer
        self.vocab = vocab
        self.gate = gate
        self.vision = vision
        # tokenizers are frozen helpers, kept out of this module's parameters
        self.__dict__["motion_tok"] = motion_tok
        self.__dict__["pose_tok"] = pose_tok
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        self.motion = stream_ranges(vocab, "motion", motion_tok.n_streams, motion_tok.codebook_size)
        self.pose = stream_ranges(vocab, "pose", pose_tok.n_streams, pose_tok.codebook_size)

    # --- pieces --------------------------------------------------------------------
    @property
    def embedding(self) -> Any:
        return self.llm.get_input_embeddings()

    def gate_weights(self, texts: Sequence[str]) -> torch.Tensor | None:
        """(B, E) gate weights from the instruction texts (None for non-MoE variants)."""
        if self.gate is None:
            return None
        return self.gate.gate_texts(list(texts))

    @contextmanager
    def routed(self, alpha: torch.Tensor | None, merge: bool = False) -> Iterator[None]:
        """Set per-sample gate weights for the block (or merge one gate vector at batch 1)."""
        if alpha is None or self.gate is None:
            yield
            return
        if merge and alpha.shape[0] == 1:
            with self.llm.merged_for_request(alpha[0].detach()):
                yield
            self.llm.clear_gate_weights()
            return
        with self.llm.gate_weights(alpha):
            yield

    def image_features(self, pixels: torch.Tensor | None) -> torch.Tensor | None:
        if pixels is None or self.vision is None or pixels.shape[0] == 0:
            return None
        return self.vision(pixels).reshape(-1, self.embedding.embedding_dim)

    def images(self, feats: torch.Tensor | None) -> Any:
        return self.embedding.inject(feats) if feats is not None else nullcontext()

    # --- parameters -------------------------------------------------------------------
    def param_groups(self) -> list[dict[str, Any]]:
        """AdamW groups: adapter+gate+projector (lr), new rows (lr_embed), base (lr_full)."""
        cfg = self.cfg
        new_rows = list(new_token_parameters(self.llm).values())
        new_ids = {id(p) for p in new_rows}
        adapter, base = [], []
        for name, p in self.llm.named_parameters():
            if not p.requires_grad or id(p) in new_ids:
                continue
            (base if cfg.adapter == "full" else adapter).append(p)
        extra = [p for m in (self.gate, self.vision) if m is not None for p in m.parameters() if p.requires_grad]
        groups = [{"params": adapter + extra, "lr": cfg.lr, "name": "adapter"},
                  {"params": new_rows, "lr": cfg.lr_embed, "name": "new_rows"}]
        if base:
            groups.append({"params": base, "lr": cfg.lr_full, "name": "base"})
        return [g for g in groups if g["params"]]

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Every trainable tensor by a stable name (for resumable work-dir checkpoints)."""
        return {n: p for n, p in self.named_parameters() if p.requires_grad}

    # --- save / load ------------------------------------------------------------------
    def save(self, directory: Path, motion_tok_dir: Path, pose_tok_dir: Path, extra: dict[str, Any] | None = None) -> Path:
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        dtype = DTYPES[self.cfg.save_dtype]
        if self.cfg.adapter == "full":
            base = self.llm
            state = {k: v.detach().to(dtype).contiguous() for k, v in base.state_dict().items()
                     if not k.endswith(".extra")}
            # tied tensors share storage: store each once (the loader re-ties)
            seen: dict[int, str] = {}
            keep = {}
            for k, v in base.state_dict().items():
                if k.endswith(".extra"):
                    continue
                if v.data_ptr() in seen:
                    continue
                seen[v.data_ptr()] = k
                keep[k] = state[k]
            save_file(keep, str(d / "llm.safetensors"))
        else:
            from peft import get_peft_model_state_dict

            (d / "adapter").mkdir(exist_ok=True)
            self.llm.peft_config["default"].save_pretrained(str(d / "adapter"))
            state = get_peft_model_state_dict(self.llm, save_embedding_layers=False)
            save_file({k: v.detach().to(dtype).contiguous() for k, v in state.items()},
                      str(d / "adapter" / "adapter_model.safetensors"))
        save_new_tokens(self.llm, self.vocab, d, dtype)
        if self.gate is not None:
            save_file({k: v.detach().to(dtype).contiguous() for k, v in self.gate.state_dict().items()},
                      str(d / "gate.safetensors"))
        if self.vision is not None:
            save_file({k: v.detach().to(dtype).contiguous() for k, v in self.vision.state_dict().items()},
                      str(d / "vision.safetensors"))
        save_file({"mean": torch.from_numpy(self.mean), "std": torch.from_numpy(self.std)}, str(d / "stats.safetensors"))
        for src, name in ((motion_tok_dir, "motion_tokenizer"), (pose_tok_dir, "pose_tokenizer")):
            dst = d / name
            dst.mkdir(exist_ok=True)
            for f in ("tokenizer.safetensors", "config.json"):
                shutil.copyfile(Path(src) / f, dst / f)
        meta = {"format_version": FORMAT_VERSION, "config": self.cfg.to_dict(),
                "base_vocab": self.vocab.base_vocab, "n_new_tokens": len(self.vocab.new_tokens),
                **(extra or {})}
        (d / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return d

    def load_trained(self, directory: Path) -> None:
        """Load trained tensors saved by `save` into this (freshly assembled) network."""
        from safetensors.torch import load_file

        d = Path(directory)
        if self.cfg.adapter == "full":
            state = load_file(str(d / "llm.safetensors"))
            missing, unexpected = self.llm.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
            bad = [k for k in missing if not k.endswith(".extra") and k not in _tied_names(self.llm)]
            if bad or unexpected:
                raise UserError(f"llm.safetensors does not match the model: missing {bad[:3]}, unexpected {unexpected[:3]}")
        else:
            from peft import set_peft_model_state_dict

            state = load_file(str(d / "adapter" / "adapter_model.safetensors"))
            result = set_peft_model_state_dict(self.llm, {k: v.float() for k, v in state.items()})
            if getattr(result, "unexpected_keys", None):
                raise UserError(f"adapter weights do not match: unexpected {result.unexpected_keys[:3]}")
        load_new_tokens(self.llm, d)
        if self.gate is not None:
            self.gate.load_state_dict({k: v.float() for k, v in load_file(str(d / "gate.safetensors")).items()})
        if self.vision is not None and (d / "vision.safetensors").is_file():
            self.vision.load_state_dict({k: v.float() for k, v in load_file(str(d / "vision.safetensors")).items()})


def _tied_names(model: Any) -> set[str]:
    """State-dict names that alias an earlier tensor (skipped when saving)."""
    seen: set[int] = set()
    out = set()
    for k, v in model.state_dict().items():
        if v.data_ptr() in seen:
            out.add(k)
        seen.add(v.data_ptr())
    return out


def build_adapter(cfg: HMVLMConfig, model: Any) -> Any:
    """Wrap the base model: MoE-LoRA (registered peft method), peft LoRA, or nothing (full FT)."""
    if cfg.adapter == "full":
        model.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    if cfg.adapter == "moe_lora":
        from reference_model.moe_lora import MoELoraConfig

        pcfg = MoELoraConfig(num_experts=cfg.num_experts, r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                             target_modules=cfg.target_modules, zero_expert=cfg.zero_expert)
    else:
        pcfg = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules=cfg.target_modules,
                          lora_dropout=0.0, task_type="CAUSAL_LM")
    return get_peft_model(model, pcfg)


def assemble(cfg: HMVLMConfig, motion_tok: Any, pose_tok: Any, mean: np.ndarray, std: np.ndarray,
             vision_encoder: nn.Module | None, random_weights: bool = False,
             base: tuple[Any, Any] | None = None) -> HMVLMNetwork:
    """Fresh network: adapter init and new rows from `cfg.seed` (global RNG untouched)."""
    model, tok = base if base is not None else load_base_llm(cfg, random_weights)
    vocab_tokens = new_vocabulary(motion_tok.n_streams, motion_tok.codebook_size,
                                  pose_tok.n_streams, pose_tok.codebook_size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        info = extend_vocabulary(model, tok, vocab_tokens, seed=cfg.seed)
        if cfg.new_row_init == "codebook":
            init_rows_from_codebooks(model, info, {kind: [q.codebook for q in t.quantizers]
                                                   for kind, t in (("motion", motion_tok), ("pose", pose_tok))},
                                     seed=cfg.seed)
        model.requires_grad_(False)
        llm = build_adapter(cfg, model)
        for p in new_token_parameters(llm).values():
            p.requires_grad_(True)
        gate = None
        if cfg.uses_gate:
            from reference_model.gate import PromptGate, PromptGateConfig

            gate = PromptGate.from_config(PromptGateConfig(
                num_experts=cfg.num_experts, encoder=cfg.gate_encoder,  # type: ignore[arg-type]
                encoder_path=cfg.gate_encoder_path))
        vision = None
        if vision_encoder is not None:
            from reference_model.hmvlm.vision import VisionTower

            vision = VisionTower(vision_encoder, model.get_input_embeddings().embedding_dim)
    return HMVLMNetwork(cfg, llm, tok, info, motion_tok, pose_tok, mean, std, gate, vision)


def load_network(directory: Path, random_weights: bool = False) -> HMVLMNetwork:
    """Rebuild a trained network from a checkpoint folder written by `HMVLMNetwork.save`."""
    from safetensors.torch import load_file

    from reference_model.hmvlm.vision import PoseCNN, build_encoder
    from reference_model.tokenizer.base import load_tokenizer

    d = Path(directory)
    if not (d / "config.json").is_file():
        raise UserError(f"{d} is not an HMVLM checkpoint (no config.json)")
    meta = json.loads((d / "config.json").read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise UserError(f"unsupported HMVLM checkpoint format {meta.get('format_version')} in {d}")
    cfg = HMVLMConfig.from_dict(meta["config"])
    motion_tok = load_tokenizer(d / "motion_tokenizer")
    pose_tok = load_tokenizer(d / "pose_tokenizer")
    stats = load_file(str(d / "stats.safetensors"))
    encoder = None
    if (d / "vision.safetensors").is_file():
        encoder = build_encoder(cfg.vision, cfg.vision_width, cfg.image_patches, cfg.vision_path)
        if isinstance(encoder, PoseCNN):
            enc_state = {k[len("encoder."):]: v.float() for k, v in load_file(str(d / "vision.safetensors")).items()
                         if k.startswith("encoder.")}
            encoder.load_state_dict(enc_state)
    net = assemble(cfg, motion_tok, pose_tok, stats["mean"].numpy(), stats["std"].numpy(), encoder, random_weights)
    net.load_trained(d)
    return net.eval()


__all__ = ["FORMAT_VERSION", "HMVLMNetwork", "StreamRanges", "assemble", "build_adapter", "llm_fingerprint",
           "load_base_llm", "load_network", "new_vocabulary", "stream_ranges"]
