"""Vocabulary extension V = [text, motion tokens, pose tokens] (HMVLM sec. 3.1).

The text rows are never touched: the input embedding becomes an `ExtendedEmbedding` that
looks ids < V_text up in the *original* weight tensor (same Parameter object, frozen) and
ids >= V_text in a separate trainable `extra` tensor; the output head becomes an
`ExtendedLMHead` computing the text logits with the original weight exactly as before and
appending the new tokens' logits. With tied embeddings (SmolLM2, tiny Llama) the new input
and output rows are tied too (one `extra` Parameter). So:

- text-token logits equal the base model's bit for bit whenever the adapter is inactive
  (zero expert with alpha_0 = 1), even after the extension;
- peft's `trainable_token_indices` (which breaks `tie_weights` on tied models, DESIGN.md
  sec. 2) is not used; `model.tie_weights()` still ties the original tensors;
- the new rows save as one small safetensors file (`new_tokens.safetensors`).

Image placeholders: `<image>` ids are replaced in the embedding output by projected image
features set with `ExtendedEmbedding.inject(...)` (a LLaVA-style prefix, one token per patch).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from hmvlm_bench.errors import UserError

IMAGE_TOKEN = "<image>"
NEW_TOKENS_FILE = "new_tokens.safetensors"


class ExtendedEmbedding(nn.Embedding):
    """nn.Embedding over [original rows (frozen, shared) ; extra rows (trainable)]."""

    def __init__(self, base: nn.Embedding, n_new: int, init: torch.Tensor | None = None,
                 image_token_id: int | None = None) -> None:
        # `_weight` makes this module hold the very same Parameter as `base` (ties survive).
        super().__init__(base.num_embeddings, base.embedding_dim, padding_idx=base.padding_idx,
                         _weight=base.weight.detach())
        self.weight = base.weight  # nn.Embedding re-wraps _weight; keep the original Parameter
        self.base_vocab = base.num_embeddings
        extra = init if init is not None else torch.zeros(n_new, base.embedding_dim)
        self.extra = nn.Parameter(extra.to(device=base.weight.device, dtype=base.weight.dtype))
        self.image_token_id = image_token_id
        self._image_feats: torch.Tensor | None = None

    @property
    def total_vocab(self) -> int:
        return self.base_vocab + self.extra.shape[0]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        is_new = ids >= self.base_vocab
        out = F.embedding(ids.clamp(max=self.base_vocab - 1), self.weight, self.padding_idx)
        if bool(is_new.any()):
            new = F.embedding((ids - self.base_vocab).clamp(min=0), self.extra)
            out = torch.where(is_new.unsqueeze(-1), new.to(out.dtype), out)
        if self._image_feats is not None and self.image_token_id is not None:
            mask = ids == self.image_token_id
            n = int(mask.sum())
            if n:
                feats = self._image_feats
                if feats.shape[0] != n:
                    raise UserError(f"{n} image tokens in the batch but {feats.shape[0]} image features")
                out = out.masked_scatter(mask.unsqueeze(-1), feats.to(out.dtype))
        return out

    @contextmanager
    def inject(self, feats: torch.Tensor | None) -> Iterator[None]:
        """Replace the `<image>` tokens of the next forward passes by `feats` (N, d): the
        batch's image tokens in row-major order (rows without images contribute none)."""
        self._image_feats = feats
        try:
            yield
        finally:
            self._image_feats = None


class ExtendedLMHead(nn.Linear):
    """logits = [h W_text^T (the original head, unchanged) ; h E_new^T]."""

    def __init__(self, base: nn.Linear, extra: nn.Parameter) -> None:
        nn.Module.__init__(self)
        self.in_features, self.out_features = base.in_features, base.out_features
        self.weight = base.weight  # same Parameter (tied to the embedding when the model ties)
        self.bias = base.bias
        self.extra = extra

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        text = F.linear(h, self.weight, self.bias)
        return torch.cat([text, F.linear(h, self.extra.to(h.dtype))], dim=-1)


def head_rows(head: nn.Module, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(weight rows (len(ids), d), bias or None) of an output head for the given ids, over
    the extended vocabulary when the head is an `ExtendedLMHead`."""
    ids = ids.to(head.weight.device)
    if isinstance(head, ExtendedLMHead):
        base = head.weight.shape[0]
        text = ids < base
        w = torch.empty(len(ids), head.weight.shape[1], dtype=head.weight.dtype, device=head.weight.device)
        w[text] = head.weight[ids[text]]
        w[~text] = head.extra[ids[~text] - base].to(w.dtype)
        b = None
        if head.bias is not None:
            b = torch.zeros(len(ids), dtype=head.bias.dtype, device=head.bias.device)
            b[text] = head.bias[ids[text]]
        return w, b
    return head.weight[ids], (head.bias[ids] if getattr(head, "bias", None) is not None else None)


@dataclass
class VocabInfo:
    """Where the new tokens live in the extended vocabulary."""

    base_vocab: int
    new_tokens: list[str]
    token_to_id: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.base_vocab + len(self.new_tokens)

    def id(self, token: str) -> int:
        return self.token_to_id[token]

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.token_to_id[t] for t in tokens]


def _untie_separate_head(model: Any) -> bool:
    emb, head = model.get_input_embeddings(), model.get_output_embeddings()
    return head is not None and head.weight is not emb.weight


def extend_vocabulary(model: Any, tokenizer: Any, new_tokens: Sequence[str], seed: int = 0,
                      extra_out: torch.Tensor | None = None) -> VocabInfo:
    """Add `new_tokens` to `tokenizer` (appended ids) and swap the model's embedding and
    head for the extended modules. New rows start at the mean text embedding plus small
    noise (a common resize init) so their logits start near the average token's.

    Text token ids and rows are unchanged (checked). Returns the id map.
    """
    base_vocab = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > base_vocab:
        raise UserError(f"tokenizer has {len(tokenizer)} tokens, more than the model's {base_vocab} rows")
    before = len(tokenizer)
    added = tokenizer.add_tokens(list(new_tokens), special_tokens=True)
    if added != len(new_tokens):
        raise UserError(f"{len(new_tokens) - added} of the new tokens already exist in the text vocabulary")
    # Tokenizers smaller than the embedding (padded rows): new ids follow the tokenizer's
    # last id; map them onto extra rows after *all* base rows with an id offset.
    ids = tokenizer.convert_tokens_to_ids(list(new_tokens))
    offset = base_vocab - before
    if offset:
        raise UserError(f"the model has {offset} padding rows beyond the tokenizer; not supported")
    if ids != list(range(base_vocab, base_vocab + len(new_tokens))):
        raise UserError("new tokens did not receive contiguous ids after the text vocabulary")
    emb = model.get_input_embeddings()
    head = model.get_output_embeddings()
    w = emb.weight.detach().float()
    gen = torch.Generator().manual_seed(seed)
    init = w.mean(0, keepdim=True) + w.std() * 0.1 * torch.randn(len(new_tokens), w.shape[1], generator=gen)
    token_to_id = dict(zip(new_tokens, ids))
    new_emb = ExtendedEmbedding(emb, len(new_tokens), init,
                                image_token_id=token_to_id.get(IMAGE_TOKEN))
    tied = not _untie_separate_head(model)
    if tied:
        out_extra = new_emb.extra
    else:
        hw = head.weight.detach().float()
        out_init = extra_out if extra_out is not None else hw.mean(0, keepdim=True) + hw.std() * 0.1 * torch.randn(
            len(new_tokens), hw.shape[1], generator=gen)
        out_extra = nn.Parameter(out_init.to(head.weight.dtype).to(head.weight.device))
    model.set_input_embeddings(new_emb)
    model.set_output_embeddings(ExtendedLMHead(head, out_extra))
    model.config.vocab_size = base_vocab + len(new_tokens)
    return VocabInfo(base_vocab, list(new_tokens), token_to_id)


def new_token_parameters(model: Any) -> dict[str, nn.Parameter]:
    """The trainable new-row tensors: {'embed': E_in} (+ {'head': E_out} when untied)."""
    emb, head = model.get_input_embeddings(), model.get_output_embeddings()
    if not isinstance(emb, ExtendedEmbedding) or not isinstance(head, ExtendedLMHead):
        raise UserError("the model's vocabulary was not extended (extend_vocabulary first)")
    out = {"embed": emb.extra}
    if head.extra is not emb.extra:
        out["head"] = head.extra
    return out


@torch.no_grad()
def init_rows_from_codebooks(model: Any, info: VocabInfo, codebooks: dict[str, Sequence[torch.Tensor]],
                             seed: int = 0, scale: float = 0.5, stream_scale: float = 0.25) -> int:
    """Re-initialise the new code-token rows from tokenizer codebooks; returns rows set.

    `codebooks` maps a kind ("motion", "pose") to one (K, d) codebook per stream. Row of
    code c in stream s = mean text embedding + std * (scale * (z_c @ R_s) + stream_scale * o_s),
    z_c the stream's codebook standardised, R_s a seeded (d, D) Gaussian projection /
    sqrt(d) (distances between codes are kept up to scale, Johnson-Lindenstrauss) and o_s a
    per-stream offset. Codes that decode to similar motion start with similar embeddings, so
    what the LLM learns about one code carries to its neighbours; the default mean-plus-noise
    init makes all codes start alike. Both tied and untied heads get the same rows (scaled to
    the head's own statistics when untied).
    """
    from reference_model.tokenizer.tokens import code_token, stream_names

    gen = torch.Generator().manual_seed(seed + 7919)
    params = new_token_parameters(model)
    targets = [(params["embed"], model.get_input_embeddings().weight)]
    if "head" in params:  # untied head: its own rows, scaled to the head's statistics
        targets.append((params["head"], model.get_output_embeddings().weight))
    n_set = 0
    for kind, books in sorted(codebooks.items()):
        for stream, book in zip(stream_names(len(books)), books):
            z = book.detach().float().cpu()
            z = (z - z.mean(0, keepdim=True)) / z.std().clamp_min(1e-8)
            d = z.shape[1]
            ids = torch.tensor([info.id(code_token(kind, stream, c)) - info.base_vocab  # type: ignore[arg-type]
                                for c in range(z.shape[0])])
            for param, src in targets:
                w = src.detach().float()
                proj = torch.randn(d, w.shape[1], generator=gen) / d ** 0.5
                offset = torch.randn(w.shape[1], generator=gen)
                rows = w.mean(0) + w.std() * (scale * (z @ proj) + stream_scale * offset)
                param.data[ids.to(param.device)] = rows.to(param.dtype).to(param.device)
            n_set += len(ids)
    return n_set


def save_new_tokens(model: Any, info: VocabInfo, directory: Path, dtype: torch.dtype = torch.float32) -> Path:
    from safetensors.torch import save_file

    tensors = {k: v.detach().to(dtype).cpu().contiguous() for k, v in new_token_parameters(model).items()}
    path = Path(directory) / NEW_TOKENS_FILE
    save_file(tensors, str(path), metadata={"base_vocab": str(info.base_vocab), "n_new": str(len(info.new_tokens))})
    return path


def load_new_tokens(model: Any, directory: Path) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(Path(directory) / NEW_TOKENS_FILE))
    params = new_token_parameters(model)
    if set(tensors) != set(params):
        raise UserError(f"new-token file holds {sorted(tensors)}, the model needs {sorted(params)}")
    with torch.no_grad():
        for k, p in params.items():
            if tuple(tensors[k].shape) != tuple(p.shape):
                raise UserError(f"new-token rows {k}: file {tuple(tensors[k].shape)} vs model {tuple(p.shape)}")
            p.copy_(tensors[k].to(p.dtype))
