"""Batches of instruction-tuning samples: tokenising a sample, right-padded micro-batches with
answer-only labels (and the first t2m step's loss weight), length-bucketed step order, and
which micro-batches a rank runs. (Split out of `training.py`, issue 16; re-exported there.)"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hmvlm_bench.errors import UserError
from reference_model.hmvlm import templates as T
from reference_model.hmvlm.instruct_data import Sample


def encode_sample(tok: Any, s: Sample, max_len: int) -> tuple[list[int], int]:
    """(ids, n_prompt): chat prompt + answer + end of turn; loss on ids[n_prompt:]."""
    p = tok(T.chat_prompt(tok, s.user), add_special_tokens=False)["input_ids"]
    a = tok(T.chat_answer_suffix(tok, s.user, s.answer), add_special_tokens=False)["input_ids"]
    ids = (p + a)[:max_len]
    return ids, min(len(p), len(ids) - 1)


@dataclass(frozen=True)
class FirstStep:
    """Where a t2m answer's first motion step is: the tokens right after `start_id`."""

    start_id: int  # the motion start marker
    n_streams: int  # tokens per motion step
    weight: float


def collate(tok: Any, samples: list[Sample], max_len: int,
            encoded: list[tuple[list[int], int]] | None = None,
            first_step: FirstStep | None = None) -> dict[str, torch.Tensor]:
    """Right-padded micro-batch; `encoded` (from `encode_sample`) skips re-tokenising.

    With `first_step` (weight != 1) the batch also holds per-token loss `weights`: the
    first motion step of every t2m answer gets `weight`, everything else 1."""
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    enc = encoded if encoded is not None else [encode_sample(tok, s, max_len) for s in samples]
    width = max(len(i) for i, _ in enc)
    ids = torch.full((len(enc), width), pad, dtype=torch.long)
    labels = torch.full((len(enc), width), -100, dtype=torch.long)
    mask = torch.zeros((len(enc), width), dtype=torch.long)
    weights = torch.ones((len(enc), width)) if first_step is not None and first_step.weight != 1.0 else None
    for b, (row, n_prompt) in enumerate(enc):
        ids[b, :len(row)] = torch.tensor(row)
        mask[b, :len(row)] = 1
        labels[b, n_prompt:len(row)] = torch.tensor(row[n_prompt:])
        if weights is not None and first_step is not None and samples[b].task.startswith("t2m"):
            answer = row[n_prompt:]
            if first_step.start_id in answer:
                at = n_prompt + answer.index(first_step.start_id) + 1
                weights[b, at:min(at + first_step.n_streams, len(row))] = first_step.weight
    out = {"input_ids": ids, "attention_mask": mask, "labels": labels,
           "is_general": torch.tensor([s.is_general for s in samples])}
    if weights is not None:
        out["weights"] = weights
    return out


def bucket_order(lengths: list[int], batch_size: int, window_steps: int, seed: int) -> list[int]:
    """A permutation of the samples so that each optimizer step holds samples of similar
    token length (padding to the longest of a mixed batch wasted ~40% of a step's tokens).

    The sample list is cut into windows of `window_steps` steps; inside a window samples
    are sorted by length, cut into steps, and the steps shuffled (seeded), so training
    still sees the tasks interleaved and the order stays a pure function of the seed."""
    rng = np.random.default_rng([seed, 29])
    order: list[int] = []
    span = max(1, window_steps) * batch_size
    for w0 in range(0, len(lengths), span):
        idx = sorted(range(w0, min(w0 + span, len(lengths))), key=lambda i: (lengths[i], i))
        steps = [idx[s:s + batch_size] for s in range(0, len(idx), batch_size)]
        for k in rng.permutation(len(steps)):
            order.extend(steps[int(k)])
    return order


def rank_micro_batches(grad_accum: int, rank: int, world: int) -> list[int]:
    """Micro-batch indices of one optimizer step that this rank runs. The global batch of a
    step is fixed by the step number alone (data order independent of the process count),
    so a run resumed with another number of processes continues the same sequence."""
    if grad_accum % world:
        raise UserError(f"batch_size / micro_batch_size = {grad_accum} micro-batches per step cannot be "
                        f"split over {world} processes; use a process count that divides it")
    return list(range(rank, grad_accum, world))
