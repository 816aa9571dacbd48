"""Batched, constrained, seeded decoding for HMVLM (KV cache, left padding).

Motion/pose answers are forced into shape: after the prompt (which ends with the start
marker `<motion>`/`<pose>`), position j may only hold a code of stream j % n_streams, for
exactly the requested number of steps; optional forced steps (the t2m "given first/last
step" variants) are pinned. So every answer decodes to a valid motion of the requested
length. Free text (captions) is restricted to the text vocabulary.

Determinism: each row samples with its own `torch.Generator` seeded from its request
seed, so results do not depend on how requests are batched (up to float differences
between padded and unpadded forward passes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from transformers import LogitsProcessor

NEG = float("-inf")
ENGINES = ("eager", "prealloc", "static", "compiled")


@dataclass
class RowPlan:
    """What one row must produce: `n_steps` x n_streams codes; `forced[pos] = token id`."""

    n_steps: int
    forced: dict[int, int]
    seed: int = 0


class StreamConstraint(LogitsProcessor):
    """Allow at generated position j only the codes of stream j % S (or a pinned token);
    after a row's last code only `end_id` (then `pad_id`)."""

    def __init__(self, starts: Sequence[int], size: int, plans: Sequence[RowPlan], prompt_len: int,
                 end_id: int, pad_id: int) -> None:
        self.starts = list(starts)
        self.size = size
        self.plans = list(plans)
        self.prompt_len = prompt_len
        self.end_id = end_id
        self.pad_id = pad_id

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        pos = input_ids.shape[1] - self.prompt_len
        mask = torch.full_like(scores, NEG)
        n_streams = len(self.starts)
        for b, plan in enumerate(self.plans):
            n_codes = plan.n_steps * n_streams
            if pos < n_codes:
                if pos in plan.forced:
                    mask[b, plan.forced[pos]] = 0.0
                else:
                    s = self.starts[pos % n_streams]
                    mask[b, s:s + self.size] = 0.0
            elif pos == n_codes:
                mask[b, self.end_id] = 0.0
            else:
                mask[b, self.pad_id] = 0.0
        return scores + mask

    def intervals(self, max_new: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(lo, hi), each (rows, max_new): at generated position j row b may hold exactly the
        ids in [lo[b, j], hi[b, j]) (every case above is one contiguous range). The static
        decode engine applies this table on the device instead of the per-row loop."""
        n_streams = len(self.starts)
        lo = torch.full((len(self.plans), max_new), self.pad_id, dtype=torch.long)
        hi = lo + 1
        for b, plan in enumerate(self.plans):
            n_codes = plan.n_steps * n_streams
            for pos in range(min(max_new, n_codes + 1)):
                if pos == n_codes:
                    lo[b, pos], hi[b, pos] = self.end_id, self.end_id + 1
                elif pos in plan.forced:
                    lo[b, pos], hi[b, pos] = plan.forced[pos], plan.forced[pos] + 1
                else:
                    s = self.starts[pos % n_streams]
                    lo[b, pos], hi[b, pos] = s, s + self.size
        return lo, hi


class TextOnly(LogitsProcessor):
    """Forbid the new (motion/pose/image) tokens in free text."""

    def __init__(self, base_vocab: int) -> None:
        self.base_vocab = base_vocab

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.clone()
        scores[:, self.base_vocab:] = NEG
        return scores

    def intervals(self, max_new: int, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(lo, hi) as `StreamConstraint.intervals`: ids [0, base_vocab) at every position."""
        lo = torch.zeros((rows, max_new), dtype=torch.long)
        return lo, lo + self.base_vocab


def left_pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, attention mask, position ids), rows right-aligned."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.as_tensor(list(r), dtype=torch.long)
        mask[i, width - len(r):] = 1
    return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0)


def sample_top_k(scores: torch.Tensor, top_k: int, temperature: float, gens: Sequence[torch.Generator]) -> torch.Tensor:
    """One top-k sample per row, the whole batch at once: each row draws a single uniform
    from its own generator (so a row's sample does not depend on its batch) and inverts
    the cumulative distribution of its top-k probabilities. Rows with fewer than k allowed
    tokens renormalise over those (the -inf entries get probability 0)."""
    return pick_top_k(scores, top_k, temperature, torch.stack([torch.rand((), generator=g) for g in gens]))


def pick_top_k(scores: torch.Tensor, top_k: int, temperature: float, u: torch.Tensor) -> torch.Tensor:
    """`sample_top_k` given each row's uniform draw `u` (B,) (no generator, no host work: the
    static decode engine draws every step's uniforms before decoding)."""
    k = min(top_k, scores.shape[-1])
    vals, idx = torch.topk(scores.float() / max(temperature, 1e-6), k, dim=-1)
    probs = torch.softmax(vals, dim=-1)
    cdf = probs.cumsum(-1)
    u = u.to(cdf.device) * cdf[:, -1]
    pick = torch.searchsorted(cdf, u[:, None]).clamp(max=k - 1)
    # a zero-probability entry (masked) is never picked: searchsorted lands on the first
    # entry whose cumulative mass reaches u, and masked entries add no mass after it
    return idx.gather(-1, pick)[:, 0]


class SubsetHead:
    """Next-token logits over a fixed subset of the vocabulary, everything else -inf.

    Constrained answers (motion and pose codes) can only ever pick a few thousand of the
    ~50k ids; computing the other rows of the output head at every decoding step was ~1/5
    of a step's matmul work at SmolLM2-135M's shapes. The subset's rows are gathered once
    per `decode` call; logits of the allowed ids equal the full head's."""

    def __init__(self, model: Any, ids: Sequence[int]) -> None:
        from reference_model.hmvlm.vocab import head_rows

        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.body = base.get_decoder()
        self.ids = torch.as_tensor(sorted(set(int(i) for i in ids)), dtype=torch.long)
        self.weight, self.bias = head_rows(base.get_output_embeddings(), self.ids)
        head = base.get_output_embeddings()
        extra = getattr(head, "extra", None)  # ExtendedLMHead: text rows + new rows
        self.vocab = int(head.weight.shape[0] + (extra.shape[0] if extra is not None else 0))

    def __call__(self, **kwargs: Any) -> tuple[torch.Tensor, Any]:
        """(last-position logits (B, V) float32, past key values)."""
        out = self.body(use_cache=True, **kwargs)
        h = out.last_hidden_state[:, -1]
        sub = torch.nn.functional.linear(h, self.weight.to(h.dtype), None if self.bias is None else self.bias.to(h.dtype))
        logits = torch.full((h.shape[0], self.vocab), NEG, dtype=torch.float32, device=h.device)
        logits[:, self.ids.to(h.device)] = sub.float()
        return logits, out.past_key_values


@dataclass
class Guidance:
    """Classifier-free guidance for `decode` (Ho & Salimans 2022; for LLM decoding,
    Sanchez et al. 2023, "Stay on topic with classifier-free guidance"; MoMask uses it for
    text-to-motion tokens with scale 4): `rows` are the unconditional prompts, one per
    decoded row, in the same order."""

    rows: Sequence[Sequence[int]]
    scale: float

    def mix(self, cond: torch.Tensor, uncond: torch.Tensor) -> torch.Tensor:
        """`uncond + scale * (cond - uncond)` where both are finite, -inf elsewhere (ids
        outside the allowed subset are -inf in both: their difference would be nan)."""
        ok = torch.isfinite(cond) & torch.isfinite(uncond)
        mixed = uncond + self.scale * (cond - uncond)
        return torch.where(ok, mixed, torch.full_like(cond, NEG))


def _full_head(model: Any) -> Any:
    def step(**kwargs: Any) -> tuple[torch.Tensor, Any]:
        out = model(use_cache=True, **kwargs)
        return out.logits[:, -1].float(), out.past_key_values
    return step


@torch.no_grad()
def decode(model: Any, rows: Sequence[Sequence[int]], max_new: int, processor: LogitsProcessor,
           pad_id: int, seeds: Sequence[int] | None = None, top_k: int = 0, temperature: float = 1.0,
           stop_ids: Sequence[int] = (), device: str | torch.device = "cpu",
           allowed_ids: Sequence[int] | None = None, engine: str = "eager",
           guidance: "Guidance | None" = None) -> list[list[int]]:
    """Generate up to `max_new` tokens per row with a KV cache; greedy when top_k == 0,
    else top-k sampling from per-row generators seeded by `seeds`. Rows stop at a stop id.
    `allowed_ids`: every id the processor can ever allow (plus pad): the head then computes
    only those rows (`SubsetHead`); the result is the same.

    `engine` (see `reference_model.hmvlm.fast_decode`): "eager" (transformers' growing
    DynamicCache), "prealloc" (this loop over a preallocated KV buffer: the same shapes and
    arithmetic, no per-step copy of the whole cache), "static" / "compiled" (fixed-size
    StaticCache, the step without host work, optionally torch.compile'd).

    `guidance`: classifier-free guidance (the loop engines, eager and prealloc): the model
    also runs on each
    row's unconditional prompt, and the next token is picked from
    `uncond + scale * (cond - uncond)` over the allowed ids; both copies of a row then take
    the same token. scale 1 is plain decoding."""
    if engine not in ENGINES:
        raise ValueError(f"decode engine must be one of {ENGINES}, got {engine!r}")
    if guidance is not None and guidance.scale != 1.0:
        if engine not in ("eager", "prealloc"):
            raise ValueError(f"classifier-free guidance runs on the loop engines (eager, prealloc) only, not {engine!r}")
        if len(guidance.rows) != len(rows):
            raise ValueError(f"guidance needs one unconditional row per row: {len(guidance.rows)} for {len(rows)}")
    else:
        guidance = None
    if engine in ("static", "compiled"):
        from reference_model.hmvlm.fast_decode import decode_static

        return decode_static(model, rows, max_new, processor, pad_id, seeds=seeds, top_k=top_k,
                             temperature=temperature, stop_ids=stop_ids, device=device, allowed_ids=allowed_ids,
                             compiled=engine == "compiled")
    n = len(rows)
    all_rows = [*rows, *guidance.rows] if guidance is not None else rows
    ids, mask, pos = (t.to(device) for t in left_pad(all_rows, pad_id))
    gens = [torch.Generator().manual_seed(int(s)) for s in (seeds or [0] * len(rows))]
    step = SubsetHead(model, [*allowed_ids, pad_id]) if allowed_ids is not None else _full_head(model)
    if engine == "prealloc":
        from reference_model.hmvlm.fast_decode import PreallocCache

        logits, past = step(input_ids=ids, attention_mask=mask, position_ids=pos,
                            past_key_values=PreallocCache.for_model(model, ids.shape[1] + max_new))
    else:
        logits, past = step(input_ids=ids, attention_mask=mask, position_ids=pos)
    seq = ids[:n]
    done = torch.zeros(len(rows), dtype=torch.bool)
    result: list[list[int]] = [[] for _ in rows]
    stop = set(int(s) for s in stop_ids)
    for _ in range(max_new):
        if guidance is not None:
            logits = guidance.mix(logits[:n], logits[n:])
        scores = processor(seq, logits)
        nxt = (scores.argmax(-1) if top_k <= 0 else sample_top_k(scores, top_k, temperature, gens)).cpu()
        for b in range(len(rows)):
            if done[b]:
                continue
            t = int(nxt[b])
            if t in stop:
                done[b] = True
            else:
                result[b].append(t)
        if bool(done.all()):
            break
        nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt).to(device)
        seq = torch.cat([seq, nxt[:, None]], dim=1)
        if guidance is not None:  # the unconditional copy continues with the same token
            nxt = torch.cat([nxt, nxt])
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        pos = pos[:, -1:] + 1
        logits, past = step(input_ids=nxt[:, None], attention_mask=mask, position_ids=pos, past_key_values=past)
    return result


__all__ = ["ENGINES", "Guidance", "RowPlan", "StreamConstraint", "SubsetHead", "TextOnly", "decode", "left_pad", "pick_top_k",
           "sample_top_k"]
