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


class TextOnly(LogitsProcessor):
    """Forbid the new (motion/pose/image) tokens in free text."""

    def __init__(self, base_vocab: int) -> None:
        self.base_vocab = base_vocab

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        scores = scores.clone()
        scores[:, self.base_vocab:] = NEG
        return scores


def left_pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, attention mask, position ids), rows right-aligned."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.as_tensor(list(r), dtype=torch.long)
        mask[i, width - len(r):] = 1
    return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0)


@torch.no_grad()
def decode(model: Any, rows: Sequence[Sequence[int]], max_new: int, processor: LogitsProcessor,
           pad_id: int, seeds: Sequence[int] | None = None, top_k: int = 0, temperature: float = 1.0,
           stop_ids: Sequence[int] = (), device: str | torch.device = "cpu") -> list[list[int]]:
    """Generate up to `max_new` tokens per row with a KV cache; greedy when top_k == 0,
    else top-k sampling from per-row generators seeded by `seeds`. Rows stop at a stop id."""
    ids, mask, pos = (t.to(device) for t in left_pad(rows, pad_id))
    gens = [torch.Generator().manual_seed(int(s)) for s in (seeds or [0] * len(rows))]
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
    past = out.past_key_values
    logits = out.logits[:, -1].float()
    seq = ids
    done = torch.zeros(len(rows), dtype=torch.bool)
    result: list[list[int]] = [[] for _ in rows]
    stop = set(int(s) for s in stop_ids)
    for _ in range(max_new):
        scores = processor(seq, logits)
        nxt = torch.empty(len(rows), dtype=torch.long)
        for b in range(len(rows)):
            row = scores[b]
            if top_k <= 0:
                nxt[b] = int(torch.argmax(row))
            else:
                k = min(top_k, int(torch.isfinite(row).sum()))
                vals, idx = torch.topk(row / max(temperature, 1e-6), k)
                probs = torch.softmax(vals, -1).cpu()
                nxt[b] = int(idx[int(torch.multinomial(probs, 1, generator=gens[b]))])
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
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        pos = pos[:, -1:] + 1
        out = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=pos, past_key_values=past,
                    use_cache=True)
        past = out.past_key_values
        logits = out.logits[:, -1].float()
    return result


__all__ = ["RowPlan", "StreamConstraint", "TextOnly", "decode", "left_pad"]
