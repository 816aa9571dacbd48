"""The `hmvlm` BenchModel (and, through `variant`, every HMVLM-shaped baseline).

`spec(ctx)` is cheap: the config and the artifact key of the trained checkpoint, no
weights. Weights load on first use: `model_args checkpoint=DIR` (a folder written by
training), else the artifact store's checkpoint for (preset, variant, data), trained on
the spot if missing (`hmvlm-bench train model` does the same ahead of time).

model_args: checkpoint=DIR, llm_path=DIR (paper: Vicuna-7B), clip_path=DIR (paper gate +
vision), clip_text_path=DIR / clip_vision_path=DIR (paper: the two ViT-L/14 towers separately),
random_weights=true [num_layers=N] (paper preset: random towers at the real shapes, smoke test), steps=N, batch_size=N (generation batch, default 32), decoding=sample|greedy
(t2m; default sample with the config's top-k, as the HumanML3D protocol samples), cfg_scale=S
(t2m classifier-free guidance, default 1 = off),
train_data=NAME (dataset the model is trained on; default synthetic).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence

import numpy as np

from hmvlm_bench.contracts import (BenchModel, Capability, CaptionRequest, ModelArg, MotionRequest, PoseRequest,
                                   Prediction, TokenizeRequest, stable_hash)
from hmvlm_bench.errors import UserError
from reference_model.hmvlm.config import RECIPES, missing_paths, model_arg_overrides, truthy

GENERATION_BATCH = 32  # default rows per decoding batch (model arg batch_size)

ARGUMENTS: dict[str, ModelArg] = {
    "checkpoint": ModelArg("folder written by `train model` (instead of the preset's)", "path"),
    "llm_path": ModelArg("local HF folder of the base LLM (paper: Vicuna-7B)", "path"),
    "clip_path": ModelArg("CLIP folder for both the gate text tower and the vision tower", "path"),
    "clip_text_path": ModelArg("CLIP text tower folder (the gate's encoder)", "path"),
    "clip_vision_path": ModelArg("CLIP vision tower folder (pose from image)", "path"),
    "random_weights": ModelArg("paper preset: random towers at the real shapes (smoke test)", "bool"),
    "num_layers": ModelArg("with random_weights: cut every tower to N layers", "int", minimum=1),
    "recipe": ModelArg("training recipe over the preset (another checkpoint): " + " | ".join(RECIPES), "str",
                       choices=tuple(RECIPES)),
    "steps": ModelArg("training steps (another checkpoint)", "int", minimum=1),
    "train_seed": ModelArg("training seed (another checkpoint)", "int"),
    "batch_size": ModelArg("generation batch size (default 32: decoding on CPU streams the weights once per step, so wider batches amortise it)", "int", minimum=1),
    "decoding": ModelArg("t2m decoding (default sample, as the HumanML3D protocol)", "str",
                         choices=("sample", "greedy")),
    "cfg_scale": ModelArg("t2m classifier-free guidance scale (default 1 = none; MoMask uses 4): "
                          "logits = uncond + s * (cond - uncond), uncond = the prompt with an empty caption",
                          "float", minimum=1.0),
    "train_data": ModelArg("dataset the model is trained on (default synthetic)"),
}


@dataclass
class LMView:
    """The lm-eval backend protocol (hmvlm_bench.lm_eval_adapter): hf_model, tokenizer, route."""

    hf_model: Any
    tokenizer: Any
    network: Any
    name: str = "hmvlm"
    fingerprint: str = ""
    base_args: dict | None = None  # how lm-eval builds the untouched base LLM (forgetting)
    gate_sum: Any = None  # running sum of the gate weights of every routed row
    gate_rows: int = 0

    @contextmanager
    def route(self, prompts: list[str]) -> Iterator[None]:
        """Per-sample gate weights from the prompts (MoE variants); nothing otherwise."""
        import torch

        with torch.no_grad():
            alpha = self.network.gate_weights(prompts)
        if alpha is not None:
            a = alpha.detach().double().sum(0).cpu()
            self.gate_sum = a if self.gate_sum is None else self.gate_sum + a
            self.gate_rows += int(alpha.shape[0])
        with self.network.routed(alpha):
            yield

    def mean_gate(self) -> list[float] | None:
        """Mean gate weight per expert (zero expert first) over every row routed so far
        (what paper Table 3 reports for general dialogue); None for non-MoE models."""
        if self.gate_sum is None or self.gate_rows == 0:
            return None
        return [round(float(x), 6) for x in self.gate_sum / self.gate_rows]


class HMVLMModel(BenchModel):
    name: ClassVar[str] = "hmvlm"
    variant: ClassVar[str] = "hmvlm"
    capabilities = frozenset({Capability.GENERATE_MOTION, Capability.CAPTION_MOTION, Capability.ESTIMATE_POSE,
                              Capability.TOKENIZE_MOTION, Capability.LANGUAGE_MODEL})
    arguments = ARGUMENTS

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._net: Any = None
        self.checkpoint_dir: Path | None = None

    # ----------------------------------------------------------------- config (cheap)
    @classmethod
    def config(cls, ctx: Any) -> Any:
        from reference_model.hmvlm.config import HMVLMConfig

        a = ctx.model_args
        over: dict[str, Any] = {}
        if truthy(a.get("random_weights", False)):
            from reference_model.paper_shapes import random_overrides

            if ctx.preset.name != "paper":
                raise UserError("random_weights=true is for the paper preset (real shapes, random weights)")
            over.update(random_overrides(int(a["num_layers"]) if a.get("num_layers") else None))
        over.update(model_arg_overrides(a))
        return HMVLMConfig.for_preset(ctx.preset.name, cls.variant, **over)

    @classmethod
    def preflight(cls, ctx: Any) -> list[str]:
        """Missing local model folders of the preset (paper: LLM and both CLIP towers)."""
        a = ctx.model_args
        if a.get("checkpoint"):
            ckpt = Path(str(a["checkpoint"]))
            if not ckpt.is_dir():
                return [f"--model-args checkpoint={a['checkpoint']} (no such directory)"]
            from hmvlm_bench.checkpoint_io import checkpoint_problems

            bad = checkpoint_problems(ckpt)  # truncated/empty files: named now, not mid-run
            if bad:
                raise UserError(bad[0] + (f" (and {len(bad) - 1} more file(s))" if len(bad) > 1 else ""))
            return []
        return missing_paths(ctx.preset.name, a, cls.variant)

    @classmethod
    def _train_data(cls, ctx: Any) -> str:
        return str(ctx.model_args.get("train_data", "synthetic"))

    @classmethod
    def artifact_config(cls, ctx: Any) -> dict[str, Any]:
        from reference_model.hmvlm.training import model_artifact_config

        return model_artifact_config(cls.config(ctx), ctx.data.fingerprint(cls._train_data(ctx)))

    @classmethod
    def spec(cls, ctx: Any) -> dict[str, Any]:
        args = cls.own_args(ctx)
        out: dict[str, Any] = {"name": cls.name, "variant": cls.variant, "preset": ctx.preset.name, "args": args}
        ckpt = ctx.model_args.get("checkpoint")
        if ckpt:
            cfg_file = Path(ckpt) / "config.json"
            if not cfg_file.is_file():
                raise UserError(f"checkpoint {ckpt} has no config.json (not an HMVLM checkpoint)")
        out.update(cls.path_digests(ctx))  # checkpoint / LLM / CLIP contents, not their names
        if not ckpt:
            out["artifact"] = stable_hash(cls.artifact_config(ctx))
            out["config"] = cls.config(ctx).to_dict()
        return out

    # ----------------------------------------------------------------- lazy weights
    @property
    def net(self) -> Any:
        if self._net is None:
            self._net = self._load()
        return self._net

    def _load(self) -> Any:
        from reference_model.hmvlm.network import load_network

        ckpt = self.ctx.model_args.get("checkpoint")
        if ckpt:
            path = Path(ckpt)
        else:
            from reference_model.hmvlm.training import run_training

            cfg = self.config(self.ctx)
            name = self._train_data(self.ctx)
            key = self.artifact_config(self.ctx)
            store = self.ctx.artifacts
            root, fp = self.ctx.data.root(name), self.ctx.data.fingerprint(name)
            work = store.work_dir("model", key) if store.lookup("model", key) is None else None
            path = store.get_or_build("model", key, lambda tmp: run_training(
                cfg, root, fp, store, tmp, work or tmp / "work", progress=self.ctx.progress))
        self.checkpoint_dir = path
        net = load_network(path).to(self.ctx.device)
        return net.eval()

    def close(self) -> None:
        self._net = None

    # ----------------------------------------------------------------- helpers
    @property
    def batch_size(self) -> int:
        return max(1, int(self.ctx.model_args.get("batch_size", GENERATION_BATCH)))

    def _chunks(self, n: int, order: Sequence[int]) -> Iterator[list[int]]:
        from hmvlm_bench.progress import advance

        for s in range(0, n, self.batch_size):
            chunk = list(order[s:s + self.batch_size])
            yield chunk
            advance(len(chunk))  # the caller has finished this batch: feed the task's bar

    def _prompt_ids(self, user: str, start_marker: int | None) -> list[int]:
        return prompt_ids(self.net, user, start_marker)

    def _pad_id(self) -> int:
        return pad_id(self.net)

    def _encode_motion(self, feats_raw: np.ndarray, max_frames: int = 196) -> np.ndarray:
        return encode_motion(self.net, feats_raw, max_frames)

    def _gate_rows(self, alpha: Any) -> list[list[float] | None]:
        if alpha is None:
            return [None] * 0
        return [[round(float(v), 6) for v in row] for row in alpha.detach().cpu()]

    # ----------------------------------------------------------------- capabilities
    def generate_motion(self, requests: Sequence[MotionRequest]) -> list[Prediction]:
        greedy = str(self.ctx.model_args.get("decoding", "sample")) == "greedy"
        return generate_motions(self.net, requests, top_k=0 if greedy else None, batch_size=self.batch_size,
                                cfg_scale=float(self.ctx.model_args.get("cfg_scale", 1.0)),
                                device=self.ctx.device)

    def caption_motion(self, requests: Sequence[CaptionRequest]) -> list[Prediction]:
        import torch

        from reference_model.hmvlm import templates as T
        from reference_model.hmvlm.generation import TextOnly, decode
        from reference_model.tokenizer.tokens import codes_to_text

        net = self.net
        tok = net.tokenizer
        stops = {int(tok.eos_token_id)} if tok.eos_token_id is not None else set()
        eot = T.end_of_turn(tok)
        if eot in tok.get_vocab():
            stops.add(int(tok.convert_tokens_to_ids(eot)))
        out: list[Prediction | None] = [None] * len(requests)
        order = sorted(range(len(requests)), key=lambda i: -len(requests[i].features))
        for chunk in self._chunks(len(requests), order):
            users = [T.m2t_prompt(codes_to_text(self._encode_motion(requests[i].features), "motion"),
                                  int(requests[i].seed)) for i in chunk]
            rows = [self._prompt_ids(u, None) for u in users]
            with torch.no_grad():
                alpha = net.gate_weights(users)
                with net.routed(alpha, merge=len(chunk) == 1):
                    gen = decode(net.llm, rows, net.cfg.caption_max_new_tokens, TextOnly(net.vocab.base_vocab),
                                 self._pad_id(), stop_ids=sorted(stops), device=self.ctx.device)
            gates = self._gate_rows(alpha)
            for b, i in enumerate(chunk):
                text = tok.decode(gen[b], skip_special_tokens=True).strip()
                info: dict[str, Any] = {"tokens": len(gen[b])}
                if gates:
                    info["gate"] = gates[b]
                out[i] = Prediction(value=text, info=info)
        return [p for p in out if p is not None]

    def estimate_pose(self, requests: Sequence[PoseRequest]) -> list[Prediction]:
        import torch

        from reference_model.hmvlm import templates as T
        from reference_model.hmvlm.generation import RowPlan, StreamConstraint, decode
        from reference_model.hmvlm.instruct_data import frame_joints, image_placeholder
        from reference_model.hmvlm.vision import heading_frame, preprocess_images

        net = self.net
        rng_p = net.pose
        out: list[Prediction | None] = [None] * len(requests)
        for chunk in self._chunks(len(requests), list(range(len(requests)))):
            users = [T.pose_prompt(image_placeholder(net.cfg), int(requests[i].seed)) for i in chunk]
            rows = [self._prompt_ids(u, rng_p.start_marker) for u in users]
            pixels = preprocess_images([requests[i].image for i in chunk], net.cfg.image_size).to(self.ctx.device)
            plans = [RowPlan(1, {}, int(requests[i].seed)) for i in chunk]
            with torch.no_grad():
                feats = net.image_features(pixels)
                # the LLM's pose tokens are body-frame; the frozen CNN reads the camera yaw
                yaw = net.vision.encoder.regress(pixels)[1] if hasattr(net.vision.encoder, "regress") else None
                alpha = net.gate_weights(users)
                proc = StreamConstraint(rng_p.starts, rng_p.size, plans, max(len(r) for r in rows),
                                        rng_p.end_marker, self._pad_id())
                with net.routed(alpha), net.images(feats):
                    gen = decode(net.llm, rows, rng_p.n_streams, proc, self._pad_id(), device=self.ctx.device,
                                 allowed_ids=code_ids(rng_p))
            gates = self._gate_rows(alpha)
            for b, i in enumerate(chunk):
                codes = np.asarray(gen[b][:rng_p.n_streams]) - np.asarray(rng_p.starts)
                frame = net.pose_tok.decode_pose(torch.from_numpy(codes)[None])[0].cpu().numpy()
                frame = frame * (net.std + 1e-8) + net.mean
                info: dict[str, Any] = {"codes": codes.tolist(), "tokens": int(rng_p.n_streams)}
                if gates:
                    info["gate"] = gates[b]
                joints = torch.from_numpy(frame_joints(frame))[None]
                if yaw is not None:
                    joints = heading_frame(joints, yaw[b:b + 1].cpu().float())
                    info["yaw"] = round(float(yaw[b]), 6)
                out[i] = Prediction(value=joints[0].numpy().astype(np.float32), info=info)
        return [p for p in out if p is not None]

    def reconstruct_motion(self, requests: Sequence[TokenizeRequest]) -> list[Prediction]:
        return tokenizer_round_trip(self.net.motion_tok, requests)

    def lm_backend(self) -> LMView:
        base = {"model": "base", "preset": self.ctx.preset.name}
        if self.ctx.model_args.get("llm_path"):
            base["llm_path"] = str(self.ctx.model_args["llm_path"])
        return LMView(self.net.llm, self.net.tokenizer, self.net, name=self.name,
                      fingerprint=self.fingerprint(self.ctx), base_args=base)


def tokenizer_round_trip(tokenizer: Any, requests: Sequence[TokenizeRequest]) -> list[Prediction]:
    """Normalised (T, 263) -> codes -> normalised (l * (T // l), 263), one request at a time."""
    import torch

    out = []
    for r in requests:
        x = torch.as_tensor(np.asarray(r.features, np.float32))[None]
        codes = tokenizer.encode(x)
        y = tokenizer.decode(codes)[0].cpu().numpy()
        out.append(Prediction(value=y, info={"codes": codes[0].cpu().numpy().tolist()}))
    return out


# ------------------------------------------------------------------ network-level helpers
def prompt_ids(net: Any, user: str, start_marker: int | None) -> list[int]:
    """Chat-formatted prompt ids (+ the answer's start marker)."""
    from reference_model.hmvlm.templates import chat_prompt

    tok = net.tokenizer
    ids = tok(chat_prompt(tok, user), add_special_tokens=False)["input_ids"]
    return ids + ([start_marker] if start_marker is not None else [])


def code_ids(ranges: Any) -> list[int]:
    """Every id a constrained motion/pose answer can hold: the streams' codes + end marker."""
    return [i for s in ranges.starts for i in range(s, s + ranges.size)] + [ranges.end_marker]


def pad_id(net: Any) -> int:
    tok = net.tokenizer
    return int(tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)


def encode_motion(net: Any, feats_raw: np.ndarray, max_frames: int = 196) -> np.ndarray:
    """Raw (T, 263) features -> motion codes (T // l, streams)."""
    import torch

    l = net.motion_tok.downsample
    t = (min(len(feats_raw), max_frames) // l) * l
    if t == 0:
        raise UserError(f"motion of {len(feats_raw)} frames is shorter than the tokenizer unit {l}")
    x = (np.asarray(feats_raw[:t], np.float32) - net.mean) / (net.std + 1e-8)
    return net.motion_tok.encode(torch.from_numpy(x)[None])[0].cpu().numpy()


def generate_motions(net: Any, requests: Sequence[MotionRequest], top_k: int | None = None, batch_size: int = 8,
                     device: Any = "cpu", engine: str = "prealloc", cfg_scale: float = 1.0) -> list[Prediction]:
    """Text-to-motion with a network (training's learning curve and the BenchModel share it):
    constrained, seeded decoding of exactly `length // l` steps per request; `top_k` None
    = the config's sampling top-k, 0 = greedy. Rows are batched longest first. `engine`:
    the decode engine (`generation.decode`); the default `prealloc` gives eager's tokens
    (tests/hmvlm/test_decode_engines.py; the mini t2m results were identical) 1.03-1.09x
    faster on CPU (reports/bench/decode_engines_cpu-intel-xeon-amx-2t.md). `cfg_scale`
    above 1: classifier-free guidance against the same prompt with an empty caption
    (`generation.Guidance`; the eager and prealloc engines)."""
    import torch

    from reference_model.hmvlm import templates as T
    from reference_model.hmvlm.generation import Guidance, RowPlan, StreamConstraint, decode
    from reference_model.tokenizer.tokens import codes_to_text

    rng_m = net.motion
    l = net.motion_tok.downsample
    top_k = net.cfg.t2m_top_k if top_k is None else top_k
    scale = float(cfg_scale)
    pad = pad_id(net)
    out: list[Prediction | None] = [None] * len(requests)
    order = sorted(range(len(requests)), key=lambda i: -requests[i].length)
    for s in range(0, len(order), max(1, batch_size)):
        chunk = order[s:s + max(1, batch_size)]
        users, plans, variants, unconds = [], [], [], []
        for i in chunk:
            r = requests[i]
            n_steps = max(1, int(r.length) // l)
            hint = getattr(r, "hint", None)
            variant = r.variant if r.variant in ("first_token", "last_token") and hint is not None else "text"
            forced: dict[int, int] = {}
            motion_hint = ""
            if variant != "text":
                hcodes = encode_motion(net, np.asarray(hint))[:1]
                motion_hint = codes_to_text(hcodes, "motion")
                base = 0 if variant == "first_token" else (n_steps - 1) * rng_m.n_streams
                for st, k in enumerate(hcodes[0]):
                    forced[base + st] = rng_m.starts[st] + int(k)
            users.append(T.t2m_prompt(r.text, variant, int(r.seed), motion=motion_hint))
            unconds.append(T.t2m_prompt("", variant, int(r.seed), motion=motion_hint))
            plans.append(RowPlan(n_steps, forced, int(r.seed)))
            variants.append(variant)
        rows = [prompt_ids(net, u, rng_m.start_marker) for u in users]
        guide = None
        if scale != 1.0:
            guide = Guidance([prompt_ids(net, u, rng_m.start_marker) for u in unconds], scale)
        with torch.no_grad():
            alpha = net.gate_weights(users if guide is None else users + unconds)
            width = max(len(r) for r in [*rows, *(guide.rows if guide else [])])
            proc = StreamConstraint(rng_m.starts, rng_m.size, plans, width, rng_m.end_marker, pad)
            with net.routed(alpha, merge=len(chunk) == 1 and guide is None):
                gen = decode(net.llm, rows, max(p.n_steps for p in plans) * rng_m.n_streams, proc,
                             pad, seeds=[p.seed for p in plans], top_k=top_k, device=device,
                             allowed_ids=code_ids(rng_m), engine=engine, guidance=guide)
        gates = [] if alpha is None else [[round(float(v), 6) for v in row] for row in alpha.detach().cpu()]
        for b, i in enumerate(chunk):
            n_codes = plans[b].n_steps * rng_m.n_streams
            ids = np.asarray(gen[b][:n_codes]).reshape(plans[b].n_steps, rng_m.n_streams)
            codes = ids - np.asarray(rng_m.starts)[None]
            feats = net.motion_tok.decode(torch.from_numpy(codes)[None])[0].cpu().numpy()
            feats = feats * (net.std + 1e-8) + net.mean
            info: dict[str, Any] = {"tokens": int(n_codes), "variant": variants[b], "codes": codes.tolist()}
            if gates:
                info["gate"] = gates[b]
            out[i] = Prediction(value=feats.astype(np.float32), info=info)
    return [p for p in out if p is not None]


__all__ = ["HMVLMModel", "LMView", "encode_motion", "generate_motions", "pad_id", "prompt_ids", "tokenizer_round_trip"]
