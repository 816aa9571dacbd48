"""Decode engines beside the eager loop of `generation.decode` (issue 17).

- `PreallocCache` ("prealloc" engine): a KV cache whose layers write into a buffer sized
  for the whole request and hand the attention a view of the filled prefix. transformers'
  DynamicCache concatenates, i.e. copies the whole cache of every layer at every step (at
  SmolLM2-135M shapes, batch 32, 300 positions: ~0.4 GB of copies per token). The view has
  the shape and the values the concatenated tensor would have, so the attention computes
  the same numbers (tests check the tokens and the logits).
- `decode_static` ("static" / "compiled" engines): transformers' `StaticCache` (fixed
  shapes, cache tensors at static addresses), the constraint applied from a precomputed
  (lo, hi) id-range table on the device, top-k uniforms drawn before decoding, stop/pad
  bookkeeping on the device: a step issues no host synchronisation and no per-row Python,
  so it can be captured whole (`torch.compile(mode="reduce-overhead")` = CUDA graphs on
  CUDA; the default inductor mode on CPU). MoE-LoRA needs nothing special: the gate is
  computed once per request (`HMVLMNetwork.routed`), expanded once per batch by
  `GateState.block_gate`, and every adapted linear applies the per-sample mixture as two
  batched matmuls (`MoELoraLinear.forward`); merged per-request decode (batch 1) runs the
  base kernels.

The static engine attends over the whole fixed-length buffer (masked positions add
exp(-inf) = 0); whether that leaves the logits bit-identical depends on the attention
kernel's blocking, so tests compare the tokens (greedy and seeded sampling) on the tiny
preset, and the bench reports the speed of each engine against eager in the same run.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Sequence

import torch
from transformers import LogitsProcessor
from transformers.cache_utils import Cache, DynamicLayer, StaticCache

from reference_model.hmvlm.generation import NEG, SubsetHead, _full_head, left_pad, pick_top_k

# Static buffers are rounded up to a multiple of this many positions, so requests of nearby
# lengths share one compiled graph (the dynamo cache keys on shapes).
STATIC_LENGTH_BUCKET = 64
# The static engine checks "every row finished" (one host sync) every this many steps.
DONE_CHECK_EVERY = 16


def _base(model: Any) -> Any:
    return model.get_base_model() if hasattr(model, "get_base_model") else model


class PreallocLayer(DynamicLayer):
    """A DynamicLayer that fills a preallocated (B, H, max_len, D) buffer instead of
    concatenating; `keys`/`values` are views of the filled prefix (what `torch.cat` would
    have returned, without the copy)."""

    def __init__(self, max_len: int) -> None:
        super().__init__()
        self.max_len = int(max_len)
        self.length = 0

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.device = key_states.device
        b, h, _, dk = key_states.shape
        self._kbuf = torch.empty((b, h, self.max_len, dk), dtype=key_states.dtype, device=self.device)
        self._vbuf = torch.empty((b, h, self.max_len, value_states.shape[-1]), dtype=value_states.dtype,
                                 device=self.device)
        self.keys, self.values = self._kbuf[:, :, :0], self._vbuf[:, :, :0]
        self.is_initialized = True

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        start, n = self.length, key_states.shape[-2]
        if start + n > self.max_len:
            raise RuntimeError(f"preallocated KV cache of {self.max_len} positions is full ({start} + {n})")
        self._kbuf[:, :, start:start + n].copy_(key_states)
        self._vbuf[:, :, start:start + n].copy_(value_states)
        self.length = start + n
        self.keys, self.values = self._kbuf[:, :, :self.length], self._vbuf[:, :, :self.length]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length if self.is_initialized else 0

    def reset(self) -> None:
        self.length = 0
        super().reset()


class PreallocCache(Cache):
    """One `PreallocLayer` per decoder layer (full attention only: Llama-family models)."""

    def __init__(self, num_layers: int, max_len: int) -> None:
        super().__init__(layers=[PreallocLayer(max_len) for _ in range(num_layers)])

    @classmethod
    def for_model(cls, model: Any, max_len: int) -> "PreallocCache":
        cfg = _base(model).config.get_text_config(decoder=True)
        if getattr(cfg, "sliding_window", None) or len(set(getattr(cfg, "layer_types", None) or ["full"])) > 1:
            raise ValueError("PreallocCache supports full-attention decoders only (no sliding window)")
        return cls(int(cfg.num_hidden_layers), max_len)


def constraint_table(processor: LogitsProcessor, rows: int, max_new: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(lo, hi) (rows, max_new) id ranges equivalent to `processor` (StreamConstraint / TextOnly)."""
    table = getattr(processor, "intervals", None)
    if table is None:
        raise TypeError(f"the static decode engine needs a processor with an id-range table, got "
                        f"{type(processor).__name__}")
    try:
        lo, hi = table(max_new)
    except TypeError:
        lo, hi = table(max_new, rows)
    if lo.shape != (rows, max_new):
        raise ValueError(f"constraint table has shape {tuple(lo.shape)}, expected {(rows, max_new)}")
    return lo, hi


def embed_no_sync(model: Any, ids: torch.Tensor) -> torch.Tensor:
    """The input embeddings of `ids` without a host sync: `ExtendedEmbedding.forward` asks
    `bool(is_new.any())` (a device-to-host read, and a graph break under torch.compile) before
    looking up the new rows; here both lookups always run and `where` picks, which gives the
    same values (image injection, a prefill-only feature, falls back to the module)."""
    from reference_model.hmvlm.vocab import ExtendedEmbedding

    emb = _base(model).get_input_embeddings()
    if not isinstance(emb, ExtendedEmbedding) or emb._image_feats is not None:
        return emb(ids)
    is_new = ids >= emb.base_vocab
    out = torch.nn.functional.embedding(ids.clamp(max=emb.base_vocab - 1), emb.weight, emb.padding_idx)
    new = torch.nn.functional.embedding((ids - emb.base_vocab).clamp(min=0), emb.extra)
    return torch.where(is_new.unsqueeze(-1), new.to(out.dtype), out)


# compiled step functions, one per model object (dynamo keys the graphs on shapes)
_COMPILED: "weakref.WeakKeyDictionary[Any, dict[tuple, Callable]]" = weakref.WeakKeyDictionary()


def _step_fn(model: Any, subset: Sequence[int] | None, compiled: bool, device: torch.device) -> Callable:
    key = (tuple(subset) if subset is not None else None, compiled, str(device))
    per_model = _COMPILED.setdefault(model, {})
    fn = per_model.get(key)
    if fn is not None:
        return fn
    step = SubsetHead(model, subset) if subset is not None else _full_head(model)

    def logits_of(input_ids: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return step(inputs_embeds=embed_no_sync(model, input_ids), **kwargs)[0]

    if compiled:
        mode = "reduce-overhead" if device.type == "cuda" else None  # CUDA graphs on CUDA
        fn = torch.compile(logits_of, mode=mode, dynamic=False)
    else:
        fn = logits_of
    per_model[key] = fn
    return fn


@torch.no_grad()
def decode_static(model: Any, rows: Sequence[Sequence[int]], max_new: int, processor: LogitsProcessor, pad_id: int,
                  seeds: Sequence[int] | None = None, top_k: int = 0, temperature: float = 1.0,
                  stop_ids: Sequence[int] = (), device: str | torch.device = "cpu",
                  allowed_ids: Sequence[int] | None = None, compiled: bool = False) -> list[list[int]]:
    """`generation.decode` on a fixed-size StaticCache with a host-sync-free step (see the
    module docstring); same arguments, same result contract."""
    device = torch.device(device)
    ids, mask, pos = (t.to(device) for t in left_pad(rows, pad_id))
    n_rows, prompt_len = ids.shape
    length = -(-(prompt_len + max_new) // STATIC_LENGTH_BUCKET) * STATIC_LENGTH_BUCKET
    base = _base(model)
    cache = StaticCache(config=base.config, max_cache_len=length)
    full_mask = torch.zeros((n_rows, length), dtype=mask.dtype, device=device)
    full_mask[:, :prompt_len] = mask
    lo, hi = (t.to(device) for t in constraint_table(processor, n_rows, max_new))
    subset = sorted({*(int(i) for i in allowed_ids), int(pad_id)}) if allowed_ids is not None else None
    # every step's uniform for every row, drawn as the eager loop draws them (one per row per step)
    uniforms = None
    if top_k > 0:
        gens = [torch.Generator().manual_seed(int(s)) for s in (seeds or [0] * n_rows)]
        uniforms = torch.stack([torch.stack([torch.rand((), generator=g) for _ in range(max_new)])
                                for g in gens]).to(device)
    stops = torch.as_tensor(sorted({int(s) for s in stop_ids}) or [-1], dtype=torch.long, device=device)
    # prefill: eager (a compiled prefill would recompile for every prompt width)
    prefill = SubsetHead(model, subset) if subset is not None else _full_head(model)
    logits, _ = prefill(input_ids=ids, attention_mask=full_mask, position_ids=pos, past_key_values=cache)
    step = _step_fn(model, subset, compiled, device)
    vocab_ids = torch.arange(logits.shape[-1], device=device)
    out = torch.full((n_rows, max_new), -1, dtype=torch.long, device=device)
    done = torch.zeros(n_rows, dtype=torch.bool, device=device)
    pad = torch.full((n_rows,), int(pad_id), dtype=torch.long, device=device)
    pos = pos[:, -1:]
    for t in range(max_new):
        allowed = (vocab_ids >= lo[:, t:t + 1]) & (vocab_ids < hi[:, t:t + 1])
        scores = logits + torch.where(allowed, 0.0, NEG)
        nxt = scores.argmax(-1) if top_k <= 0 else pick_top_k(scores, top_k, temperature, uniforms[:, t])
        is_stop = torch.isin(nxt, stops)
        out[:, t] = torch.where(done | is_stop, -1, nxt)
        done = done | is_stop
        if t + 1 == max_new or ((t + 1) % DONE_CHECK_EVERY == 0 and bool(done.all())):
            break
        nxt = torch.where(done, pad, nxt)
        full_mask[:, prompt_len + t] = 1
        pos = pos + 1
        logits = step(input_ids=nxt[:, None], attention_mask=full_mask, position_ids=pos, past_key_values=cache)
        if compiled:
            logits = logits.clone()  # a CUDA-graph output is overwritten by the next replay
    host = out.cpu()
    return [[int(x) for x in row if x >= 0] for row in host.tolist()]


__all__ = ["DONE_CHECK_EVERY", "PreallocCache", "PreallocLayer", "STATIC_LENGTH_BUCKET", "constraint_table",
           "decode_static", "embed_no_sync"]
