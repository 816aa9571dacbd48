"""Multi-task instruction tuning of HMVLM and its baselines (resumable, safetensors only).

Recipe: HMVLM sec. 4 (AdamW, linear warm-up + cosine decay, batch = micro-batch x
accumulation, next-token loss on answer tokens only, plus L_gat for MoE variants with the
gating loss). The loop runs under `accelerate.Accelerator`, so `accelerate launch` can drive
it on GPUs; on this CPU machine it is one process.

Entry points: `train_model(...)` (registered as trainer "model"; the CLI `hmvlm-bench train
model` calls it) and `train_tokenizer_cmd(...)` (trainer "tokenizer"). Trained checkpoints
are artifacts (`ArtifactStore.get_or_build("model", model_artifact_config(...))`), so the
runner trains whatever is missing or finds a shipped one under the repo's `checkpoints/`.

This module holds the loop (the micro-step and its loss, resumable work dirs, components,
`run_training`, `train_model`); its other jobs live beside it and are re-exported here:
`train_keys` (store, dataset, artifact keys, tokenizer trainer), `batching` (samples ->
micro-batches, bucketing, rank split), `accelerator` (Accelerator setup, frozen-weight cast).
"""
from __future__ import annotations

import contextlib
import json
import math
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hmvlm_bench.checkpoint_io import (
    copy_full_,
    full_tensor,
    is_sharded,
    load_optimizer,
    optimizer_groups,
    optimizer_tensors,
    publish,
    unshard_,
)
from hmvlm_bench.errors import UserError
from hmvlm_bench.precision import resolve_precision
from reference_model.hmvlm.config import HMVLMConfig, model_arg_overrides
from reference_model.hmvlm.accelerator import cast_frozen_, make_accelerator
from reference_model.hmvlm.batching import FirstStep, bucket_order, collate, encode_sample, rank_micro_batches
from reference_model.hmvlm.instruct_data import InstructData, Sample
from reference_model.hmvlm.train_keys import (MODEL_FORMAT, REPO_ROOT, make_store, model_artifact_config,
                                              resolve_data, tokenizer_artifact, tokenizer_key,
                                              train_tokenizer_cmd, training_preflight)

# the split-out names stay importable from here (scripts and plugins import them from training)
__all__ = ["MODEL_FORMAT", "REPO_ROOT", "FirstStep", "bucket_order", "cast_frozen_", "collate", "encode_sample",
           "make_accelerator", "make_store", "micro_step", "model_artifact_config", "rank_micro_batches",
           "resolve_data", "run_training", "tokenizer_artifact", "tokenizer_key", "train_model",
           "train_tokenizer_cmd", "training_preflight"]

# ------------------------------------------------------------------------------- the step
def lr_scale(step: int, cfg: HMVLMConfig) -> float:
    """Linear warm-up then cosine decay to 0 (HMVLM: cosine)."""
    if step < cfg.warmup_steps:
        return (step + 1) / (cfg.warmup_steps + 1)
    span = max(1, cfg.steps - cfg.warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / span)))


def decoder_and_head(llm: Any) -> tuple[Any, Any]:
    """(decoder body returning hidden states, output head) of the (peft-wrapped) causal LM."""
    base = llm.get_base_model() if hasattr(llm, "get_base_model") else llm
    return base.get_decoder(), base.get_output_embeddings()


def micro_step(net: Any, batch: dict[str, torch.Tensor], samples: list[Sample], pixels: torch.Tensor | None,
               device: Any) -> dict[str, torch.Tensor]:
    """Forward one micro-batch: {'loss', 'lm', 'gate', 'alpha'}.

    The output head runs only at the positions that predict a label: the 49k-way head and
    its cross-entropy at every prompt and padding position were ~a third of a step's
    matmul work and all of its softmax memory; the loss is the same mean over labelled
    tokens as `F.cross_entropy(..., ignore_index=-100)` over the full logits."""
    from reference_model.gate import gating_loss

    cfg = net.cfg
    rows = [s.image for s in samples if s.image is not None]
    feats = net.image_features(pixels[rows].to(device)) if rows and pixels is not None else None
    alpha = net.gate_weights([s.user for s in samples])
    ids, mask, labels = (batch[k].to(device) for k in ("input_ids", "attention_mask", "labels"))
    body, head = decoder_and_head(net.llm)
    # no padding in the micro-batch (length-bucketed): no mask lets SDPA take its causal fast path
    attn = None if bool(mask.all()) else mask
    with net.routed(alpha), net.images(feats):
        hidden = body(input_ids=ids, attention_mask=attn, use_cache=False).last_hidden_state
    target = labels[:, 1:]
    keep = target != -100
    logits = head(hidden[:, :-1][keep])
    if "weights" in batch:  # weighted mean over labelled tokens (recipe `first_step_weight`)
        w = batch["weights"].to(device)[:, 1:][keep]
        lm = (F.cross_entropy(logits.float(), target[keep], reduction="none") * w).sum() / w.sum()
    else:
        lm = F.cross_entropy(logits.float(), target[keep])
    gate = torch.zeros((), device=device)
    if alpha is not None and cfg.gating_loss:
        gate = cfg.gate_eta * gating_loss(alpha, batch["is_general"].to(device))
    return {"loss": lm + gate, "lm": lm.detach(), "gate": gate.detach(),
            "alpha": alpha.detach() if alpha is not None else None}


# ------------------------------------------------------------------------------- resumable state
def _save_work(work: Path, net: Any, opt: torch.optim.Optimizer, step: int, history: list, elapsed: float,
               write: bool = True) -> None:
    """Write the resumable state. Sharded (FSDP) tensors are gathered first, which every rank
    must join; only the rank with `write` then writes, always full tensors."""
    from safetensors.torch import save_file

    if not (write or is_sharded(net)):
        return
    trainable = {k: full_tensor(v).detach().cpu().contiguous() for k, v in net.trainable_state().items()}
    tensors = optimizer_tensors(opt)
    if not write:
        return
    work.mkdir(parents=True, exist_ok=True)
    save_file(trainable, str(work / "trainable.safetensors.tmp"))
    save_file(tensors or {"empty": torch.zeros(1)}, str(work / "optimizer.safetensors.tmp"))
    groups = optimizer_groups(opt)
    (work / "state.json.tmp").write_text(json.dumps({"step": step, "history": history, "elapsed_s": elapsed,
                                                     "param_groups": groups, "config": net.cfg.to_dict()}))
    publish(work, ("trainable.safetensors", "optimizer.safetensors", "state.json"))  # state.json last


def _load_work(work: Path, net: Any, opt: torch.optim.Optimizer) -> tuple[int, list, float]:
    from safetensors.torch import load_file

    state = json.loads((work / "state.json").read_text())
    if state.get("config") != net.cfg.to_dict():
        raise UserError(f"work dir {work} was made with another config; delete it or use another --out")
    params = net.trainable_state()
    saved = load_file(str(work / "trainable.safetensors"))
    if set(saved) != set(params):
        raise UserError(f"work dir {work} holds other trainable tensors than this model")
    with torch.no_grad():
        for k, p in params.items():
            copy_full_(p, saved[k])
    load_optimizer(opt, load_file(str(work / "optimizer.safetensors")), state["param_groups"])
    return int(state["step"]), list(state["history"]), float(state["elapsed_s"])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------- build
def prepare_components(cfg: HMVLMConfig, root: Path, data_fp: str, store: Any, progress: bool = True,
                       work: Path | None = None) -> dict[str, Any]:
    """Tokenizers (artifacts), rendered pose set, pretrained CNN, general answers, samples."""
    from hmvlm_bench.motion.dataset import load_dataset
    from reference_model.hmvlm import instruct_data as D
    from reference_model.hmvlm.network import llm_fingerprint, load_base_llm
    from reference_model.hmvlm.vision import build_encoder, pretrain_cnn
    from reference_model.tokenizer.base import load_tokenizer

    notes: list[str] = []
    mdir = tokenizer_artifact(store, cfg.tokenizer_preset or cfg.preset, cfg.motion_tokenizer, root, data_fp, cfg.tokenizer_steps, progress)
    pdir = tokenizer_artifact(store, cfg.tokenizer_preset or cfg.preset, "pose", root, data_fp, cfg.tokenizer_steps, progress)
    motion_tok, pose_tok = load_tokenizer(mdir), load_tokenizer(pdir)
    train = load_dataset(root, split="train")
    pose_set, cnn_log = None, []
    try:
        pose_set = D.build_pose_set(root, pose_tok, cfg.n_pose_images, cfg.image_size, cfg.seed)
    except UserError as exc:
        notes.append(str(exc))
    if cfg.vision == "cnn":
        if pose_set is not None:
            encoder, cnn_log = pretrain_cnn(pose_set.pixels, torch.from_numpy(pose_set.joints),
                                            torch.from_numpy(pose_set.yaw), cfg.vision_width,
                                            cfg.image_patches, cfg.vision_pretrain_steps, seed=cfg.seed)
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(cfg.seed)
                encoder = build_encoder("cnn", cfg.vision_width, cfg.image_patches, None)
            notes.append("vision CNN left untrained (no rendered frames)")
    else:
        encoder = build_encoder(cfg.vision, cfg.vision_width, cfg.image_patches, cfg.vision_path)
    general = D.general_answers_artifact(store, llm_fingerprint(cfg), lambda: load_base_llm(cfg), cfg) \
        if cfg.task_weights.get("general", 0) > 0 else {}
    data = D.build_instruct_data(cfg, root, motion_tok, cfg.steps * cfg.batch_size, general, pose_set)
    return {"motion_dir": mdir, "pose_dir": pdir, "motion_tok": motion_tok, "pose_tok": pose_tok,
            "mean": train.mean, "std": train.std, "encoder": encoder, "data": data,
            "notes": notes + data.notes, "cnn_loss": cnn_log[:1] + cnn_log[-1:]}


def learning_curve_set(cfg: HMVLMConfig, root: Path, store: Any, progress: bool) -> tuple[Any, Any] | None:
    """(val set, evaluator) for the learning curve; None where the dataset has no evaluator
    of ours (real datasets score with the official one, given at evaluation time)."""
    from hmvlm_bench.context import DataCatalog
    from hmvlm_bench.evaluators.contrastive import load_evaluator
    from hmvlm_bench.evaluators.factory import evaluator_artifact
    from hmvlm_bench.presets import get_preset
    from reference_model.hmvlm.learning_curve import load_val_set

    catalog = DataCatalog(get_preset(cfg.preset), store, {})
    try:
        if catalog.root("synthetic").resolve() != Path(root).resolve():
            return None
    except UserError:
        return None
    ev = load_evaluator(evaluator_artifact(store, cfg.preset, catalog, "synthetic", progress=progress))
    return load_val_set(Path(root), ev, cfg.val_items), ev


class _Step(torch.nn.Module):
    """The network behind one forward call, so DDP/FSDP (which hook `forward`) see every
    micro-step: `accelerator.prepare` wraps this, `micro_step` stays the single source."""

    def __init__(self, net: Any, pixels: torch.Tensor | None) -> None:
        super().__init__()
        self.net = net
        # FSDP's transformer-based auto wrap reads this (one shard unit per decoder layer),
        # so an accelerate FSDP config need not name the LLM's layer class
        base = getattr(net.llm, "get_base_model", lambda: net.llm)()
        self._no_split_modules = list(getattr(base, "_no_split_modules", None) or [])
        self.__dict__["pixels"] = pixels  # not an argument: DDP would copy every image to the GPU each call
        self.sharded = False  # set after `accelerator.prepare` (FSDP2)

    def forward(self, batch: dict[str, torch.Tensor], samples: list[Sample], device: Any) -> dict[str, torch.Tensor]:
        out = micro_step(self.net, batch, samples, self.pixels, device)
        vision = self.net.vision
        if self.sharded and vision is not None and not any(s.image is not None for s in samples):
            # FSDP2 reduce-scatters the gradients each rank holds: a projector unused on this
            # rank but used on another would mismatch the collective (gloo aborts). A zero-
            # weighted pass gives it a zero gradient; `run_training` drops it again when no
            # rank used images this step, so AdamW skips the projector as without sharding.
            proj = vision.projector
            dummy = proj(torch.zeros(1, proj.net[0].in_features, device=device, dtype=proj.net[0].weight.dtype))
            out = {**out, "loss": out["loss"] + 0.0 * dummy.sum()}
        return out


def run_training(cfg: HMVLMConfig, root: Path, data_fp: str, store: Any, out: Path, work: Path,
                 random_weights: bool = False, progress: bool = True) -> Path:
    """Train and write the checkpoint into `out`; resumable from `work`.

    Under `accelerate launch` every process runs this: the model is wrapped in DDP (or FSDP
    from an accelerate config), each rank runs its share of every step's micro-batches
    (`rank_micro_batches`), only the main process writes checkpoints and `out`."""
    from tqdm.auto import tqdm

    from reference_model.hmvlm.network import assemble

    t_setup = time.perf_counter()
    accelerator = make_accelerator()
    main, world = accelerator.is_main_process, accelerator.num_processes
    mine = rank_micro_batches(cfg.grad_accum, accelerator.process_index, world)
    comp = prepare_components(cfg, root, data_fp, store, progress and main, work)
    data: InstructData = comp["data"]
    net = assemble(cfg, comp["motion_tok"], comp["pose_tok"], comp["mean"], comp["std"], comp["encoder"],
                   random_weights)
    precision = resolve_precision(cfg.precision, accelerator.device)
    if precision.dtype != torch.float32:
        cast_frozen_(net.llm, precision.dtype)
    encoded = [encode_sample(net.tokenizer, s, cfg.max_seq_len) for s in data.samples]
    if cfg.bucket_window:
        order = bucket_order([len(ids) for ids, _ in encoded], cfg.batch_size, cfg.bucket_window, cfg.seed)
        data.samples = [data.samples[i] for i in order]
        encoded = [encoded[i] for i in order]
    if net.gate is not None:
        net.gate.prefill([s.user for s in data.samples])
    curve = learning_curve_set(cfg, root, store, progress and main) if main and cfg.val_every else None
    first_step = FirstStep(net.motion.start_marker, net.motion.n_streams, cfg.first_step_weight)
    step_module = _Step(net, data.pixels)
    opt = torch.optim.AdamW(net.param_groups(), betas=(0.9, 0.999), weight_decay=cfg.weight_decay)
    base_lrs = [g["lr"] for g in opt.param_groups]
    step_module, opt = accelerator.prepare(step_module, opt)
    inner = accelerator.unwrap_model(step_module).net
    accelerator.unwrap_model(step_module).sharded = sharded_run = is_sharded(inner)
    start, history, elapsed = 0, [], 0.0
    if (work / "state.json").is_file():
        start, history, elapsed = _load_work(work, inner, opt)
    accelerator.wait_for_everyone()  # nobody may see a checkpoint the main process is about to replace
    setup_s = time.perf_counter() - t_setup
    inner.llm.train()
    t0 = time.perf_counter()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not (progress and main),
               file=sys.stderr, desc=f"train {cfg.variant}/{cfg.preset}", dynamic_ncols=True)
    per_rank = len(mine)
    for step in bar:
        for g, lr in zip(opt.param_groups, base_lrs):
            g["lr"] = lr * lr_scale(step, cfg)
        lo = step * cfg.batch_size
        batch_samples = data.samples[lo:lo + cfg.batch_size]
        batch_encoded = encoded[lo:lo + cfg.batch_size]
        row: dict[str, float] = {"step": step, "loss": 0.0, "lm": 0.0, "gate": 0.0}
        sums = torch.zeros(4, dtype=torch.float64, device=accelerator.device)  # loss, lm, gate, image batches
        alphas, generals = [], []
        for j, m in enumerate(mine):
            micro = batch_samples[m * cfg.micro_batch_size:(m + 1) * cfg.micro_batch_size]
            mb = slice(m * cfg.micro_batch_size, (m + 1) * cfg.micro_batch_size)
            batch = collate(inner.tokenizer, micro, cfg.max_seq_len, batch_encoded[mb], first_step)
            # gradients are all-reduced once per step, on the last micro-batch
            sync = accelerator.no_sync(step_module) if j < per_rank - 1 else contextlib.nullcontext()
            with sync:
                out_ = step_module(batch, micro, accelerator.device)
                # per-rank mean; DDP averages over ranks -> the mean over all micro-batches
                accelerator.backward(out_["loss"] / per_rank)
            sums[:3] += torch.stack([out_[k].detach().double() for k in ("loss", "lm", "gate")])
            sums[3] += float(any(s.image is not None for s in micro))
            if out_["alpha"] is not None:
                alphas.append(out_["alpha"][:, 0].float().cpu())
                generals.append(batch["is_general"])
        if world > 1:
            sums = accelerator.reduce(sums, reduction="sum")
        for k, v in zip(("loss", "lm", "gate"), (sums[:3] / cfg.grad_accum).tolist()):
            row[k] = float(v)
        if sharded_run and inner.vision is not None and float(sums[3]) == 0:
            for p_ in inner.vision.projector.parameters():
                p_.grad = None  # unused by every rank: skipped by AdamW, as in an unsharded run
        if cfg.max_grad_norm > 0:
            accelerator.clip_grad_norm_(step_module.parameters(), cfg.max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if alphas:  # this rank's share (logged by the main process)
            a0, gm = torch.cat(alphas), torch.cat(generals)
            if bool(gm.any()):
                row["alpha0_general"] = float(a0[gm].mean())
            if bool((~gm).any()):
                row["alpha0_motion"] = float(a0[~gm].mean())
        if curve is not None and ((step + 1) % cfg.val_every == 0 or step + 1 == cfg.steps):
            from reference_model.hmvlm.learning_curve import val_point

            row.update(val_point(inner, curve[0], curve[1], seed=cfg.seed))
            bar.write(f"step {step + 1}: val t2m R@3 {row.get('val_r3', float('nan')):.3f} "
                      f"(real {row.get('real_r3', float('nan')):.3f}), MM-Dist {row['val_mm_dist']:.3f}")
        history.append(row)
        bar.set_postfix(loss=f"{row['loss']:.3f}")
        if (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.steps:
            _save_work(work, inner, opt, step + 1, history, elapsed + time.perf_counter() - t0, write=main)
            accelerator.wait_for_everyone()
    bar.close()
    elapsed += time.perf_counter() - t0
    _save_work(work, inner, opt, cfg.steps, history, elapsed, write=main)
    sharded = unshard_(inner)  # FSDP: every rank gathers the full weights; the main one saves them
    inner.eval()
    if main:
        out.mkdir(parents=True, exist_ok=True)
        losses = [h["loss"] for h in history]
        k = max(1, min(10, len(losses) // 5))
        log = {"config": cfg.to_dict(), "data": data_fp, "train_seconds": elapsed, "setup_seconds": setup_s,
               "peak_rss_mb": peak_rss_mb(), "torch_threads": torch.get_num_threads(), "samples": data.counts(),
               "loss_first": float(np.mean(losses[:k])), "loss_last": float(np.mean(losses[-k:])),
               "notes": comp["notes"], "cnn_pretrain_loss_first_last": comp["cnn_loss"],
               "random_weights": random_weights, "world_size": world,
               "distributed_type": str(accelerator.distributed_type.value), "sharded_parameters": sharded,
               "mixed_precision": str(accelerator.mixed_precision), "precision": precision.to_dict(),
               "history": history}
        from hmvlm_bench.bench.timing import device_info

        log["device"] = device_info(accelerator.device)  # which CPU / GPU trained it (provenance)
        if torch.cuda.is_available():
            log["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
        inner.save(out, comp["motion_dir"], comp["pose_dir"], extra={"train": {k2: log[k2] for k2 in
                                                                             ("train_seconds", "loss_first", "loss_last")}})
        (out / "train_log.json").write_text(json.dumps(log, indent=1) + "\n")
    accelerator.wait_for_everyone()
    return out


TRAIN_MODEL_ARGS = ("llm_path", "clip_path", "clip_text_path", "clip_vision_path", "recipe", "train_seed")


def train_model(preset: str = "mini", variant: str = "hmvlm", out: Path | str | None = None,
                steps: int | None = None, data: str | list[str] | None = None, cache_dir: Path | str | None = None,
                random_weights: bool = False, progress: bool = True, model_args: dict[str, Any] | None = None,
                **overrides: Any) -> Path:
    """Trainer "model": train HMVLM or a baseline variant; returns the checkpoint folder.

    Without `out` the checkpoint is an artifact of the store (found if already built or
    shipped); with `out` it is written there (resuming from `out/work`). `model_args` gives
    the local model folders (`llm_path`, `clip_text_path`, `clip_vision_path`, as `run
    --model-args`); the `paper` preset names every missing one up front.
    """
    args = dict(model_args or {})
    unknown = sorted(set(args) - set(TRAIN_MODEL_ARGS))
    if unknown:
        raise UserError(f"train model --model-args: unknown {', '.join(unknown)} (known: {', '.join(TRAIN_MODEL_ARGS)})")
    if not random_weights:
        training_preflight(preset, variant, data, args)
    overrides = {**model_arg_overrides(args), **overrides}
    num_layers = overrides.pop("num_layers", None)
    if random_weights:
        from reference_model.paper_shapes import random_overrides

        if preset != "paper":
            raise UserError("--random-weights is for the paper preset (real shapes, random weights)")
        overrides = {**random_overrides(num_layers), **{k: v for k, v in overrides.items() if v is not None}}
    if steps is not None:
        overrides["steps"] = steps
    cfg = HMVLMConfig.for_preset(preset, variant, **overrides)
    if random_weights and cfg.llm != "path":
        raise UserError("--random-weights is for the paper preset (real shapes, random weights)")
    store = make_store(cache_dir)
    # the random-weights smoke test exercises the GPU path on the synthetic set
    root, _, data_fp = resolve_data(preset, data, store, "synthetic" if random_weights else None)
    if out is not None:
        out = Path(out)
        return run_training(cfg, root, data_fp, store, out, out / "work", random_weights, progress)
    key = model_artifact_config(cfg, data_fp)
    if random_weights:
        key["random_weights"] = True
    work = store.work_dir("model", key)
    from hmvlm_bench.distributed import launched_world_size

    if launched_world_size() > 1:
        # every rank must train together (collectives), so no rank may wait on the build
        # lock meanwhile: train into a staging folder, then the main process publishes it
        found = store.lookup("model", key)
        if found is not None:
            return found
        from accelerate import PartialState

        staging = work / "staged_checkpoint"
        run_training(cfg, root, data_fp, store, staging, work, random_weights, progress)
        state = PartialState()
        if state.is_main_process:
            store.get_or_build("model", key, lambda tmp: shutil.copytree(staging, tmp, dirs_exist_ok=True))
        state.wait_for_everyone()
        found = store.lookup("model", key)
        assert found is not None
        return found

    def build(tmp: Path) -> None:
        run_training(cfg, root, data_fp, store, tmp, work, random_weights, progress)

    return store.get_or_build("model", key, build)


__all__ = ["collate", "encode_sample", "lr_scale", "make_accelerator", "make_store", "rank_micro_batches", "model_artifact_config", "peak_rss_mb",
           "resolve_data", "run_training", "tokenizer_artifact", "tokenizer_key", "train_model",
           "train_tokenizer_cmd"]
