"""The common tokenizer interface, save/load and the variant registry.

A tokenizer maps normalised HumanML3D features (B, T, 263) to integer codes
(B, T // l, n_streams) and back. Subclasses only define `encode_latents`/`decode_latents`
and their quantisers; cropping, masking, losses, (de)serialisation live here.

Length convention: T that is not a multiple of l is *cropped* to l * (T // l) frames
(as T2M-GPT/MotionGPT crop motions to a multiple of the unit length 4), so
`decode(encode(x))` has l * (T // l) frames. Frames at or beyond `lengths[i]` are zeroed
(= the dataset mean in normalised space) before encoding; code steps at or beyond
`lengths[i] // l` are then meaningless, and `decode(..., lengths)` zeroes those frames.

Loading: `config.json` stores the variant (and, for information only, the class name).
`load(dir)` takes the class from `TOKENIZER_CLASSES` by variant, importing only the modules
named in `TOKENIZER_MODULES` (code, never a data file): a checkpoint cannot make us import
a module of its choosing. `reference_model.tokenizer.whole_body` registers its classes on
import; it is named by string so loading a body-part tokenizer never imports it.
"""
from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import FEATURE_DIM, RIC
from reference_model.tokenizer.config import TokenizerConfig

WEIGHTS_FILE = "tokenizer.safetensors"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1

# variant -> tokenizer class; filled by the modules defining the classes (on import).
TOKENIZER_CLASSES: dict[str, type["MotionTokenizer"]] = {}
# the only modules imported to find a tokenizer class (trusted code, not checkpoint data)
TOKENIZER_MODULES = ("reference_model.tokenizer.body_part", "reference_model.tokenizer.whole_body")


def register_tokenizer(*variants: str):
    """Class decorator: make `MotionTokenizer.load` find the class by variant name."""
    def deco(cls: type["MotionTokenizer"]) -> type["MotionTokenizer"]:
        for v in variants:
            TOKENIZER_CLASSES[v] = cls
        return cls
    return deco


@dataclass
class TokenizerOutput:
    recon: torch.Tensor  # (B, T', 263) with T' = l * (T // l)
    codes: torch.Tensor  # (B, T // l, n_streams)
    commit: torch.Tensor  # mean commitment loss over streams
    perplexity: torch.Tensor  # mean codebook perplexity over streams


class MotionTokenizer(nn.Module):
    """Base class. `n_streams` parallel codes per step, each from a K-code codebook."""

    variants: ClassVar[tuple[str, ...]] = ()
    n_streams: int
    quantizers: nn.ModuleList

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        if self.variants and config.variant not in self.variants:
            raise UserError(f"{type(self).__name__} cannot build variant '{config.variant}'")
        self.config = config

    # --- what subclasses provide ------------------------------------------------------
    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, 263), T % l == 0 -> pre-quantisation latents (B, T // l, n_streams, code_dim)."""
        raise NotImplementedError

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        """(B, T', n_streams, code_dim) -> features (B, l * T', 263)."""
        raise NotImplementedError

    # --- interface --------------------------------------------------------------------
    @property
    def codebook_size(self) -> int:
        return self.config.codebook_size

    @property
    def downsample(self) -> int:
        return self.config.downsample

    @property
    def variant(self) -> str:
        return self.config.variant

    def _prepare(self, feats: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        if feats.ndim != 3 or feats.shape[-1] != FEATURE_DIM:
            raise UserError(f"tokenizer expects features (B, T, {FEATURE_DIM}), got {tuple(feats.shape)}")
        l = self.downsample
        t = (feats.shape[1] // l) * l
        if t == 0:
            raise UserError(f"motion too short for the tokenizer: {feats.shape[1]} frames < {l}")
        x = feats[:, :t].float()
        if lengths is not None:
            x = x * self._frame_mask(lengths, t, x.device).unsqueeze(-1)
        return x

    @staticmethod
    def _frame_mask(lengths: torch.Tensor | list[int], t: int, device: torch.device) -> torch.Tensor:
        lengths = torch.as_tensor(lengths, device=device)
        return (torch.arange(t, device=device)[None] < lengths[:, None]).float()

    def forward(self, feats: torch.Tensor) -> TokenizerOutput:
        x = self._prepare(feats, None)
        z = self.encode_latents(x)
        b, s, n, d = z.shape
        qs, codes, commits, ppls = [], [], [], []
        for i, quant in enumerate(self.quantizers):
            q, c, commit, ppl = quant(z[:, :, i].reshape(b * s, d))
            qs.append(q.reshape(b, s, d))
            codes.append(c.reshape(b, s))
            commits.append(commit)
            ppls.append(ppl)
        recon = self.decode_latents(torch.stack(qs, dim=2))
        return TokenizerOutput(recon, torch.stack(codes, -1), torch.stack(commits).mean(),
                               torch.stack(ppls).mean())

    @torch.no_grad()
    def encode(self, feats_norm: torch.Tensor, lengths: torch.Tensor | list[int] | None = None) -> torch.Tensor:
        """(B, T, 263) normalised features -> int64 codes (B, T // l, n_streams)."""
        z = self.encode_latents(self._prepare(feats_norm, lengths))
        b, s, n, d = z.shape
        codes = [q.quantize(z[:, :, i].reshape(b * s, d)).reshape(b, s) for i, q in enumerate(self.quantizers)]
        return torch.stack(codes, -1).long()

    @torch.no_grad()
    def decode(self, codes: torch.Tensor, lengths: torch.Tensor | list[int] | None = None) -> torch.Tensor:
        """int codes (B, T', n_streams) -> normalised features (B, l * T', 263)."""
        if codes.ndim != 3 or codes.shape[-1] != self.n_streams:
            raise UserError(f"codes must be (B, T', {self.n_streams}), got {tuple(codes.shape)}")
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise UserError(f"codes out of range [0, {self.codebook_size})")
        z = torch.stack([q.dequantize(codes[..., i].long()) for i, q in enumerate(self.quantizers)], dim=2)
        out = self.decode_latents(z)
        if lengths is not None:
            out = out * self._frame_mask(lengths, out.shape[1], out.device).unsqueeze(-1)
        return out

    def losses(self, feats: torch.Tensor) -> dict[str, torch.Tensor]:
        """T2M-GPT VQ-VAE loss: smooth-L1 reconstruction + loss_pos * smooth-L1 on the ric
        joint-position slice (T2M-GPT's `forward_vel`, utils/losses.py, despite its name)
        + commit * commitment. L_emb is carried by the EMA codebook update (quantizer.py)."""
        out = self(feats)
        target = feats[:, : out.recon.shape[1]].float()
        rec = F.smooth_l1_loss(out.recon, target)
        pos = F.smooth_l1_loss(out.recon[..., RIC], target[..., RIC])
        total = rec + self.config.loss_pos * pos + self.config.commit * out.commit
        return {"loss": total, "rec": rec.detach(), "pos": pos.detach(),
                "commit": out.commit.detach(), "perplexity": out.perplexity.detach()}

    # --- persistence ------------------------------------------------------------------
    def fingerprint(self) -> str:
        """sha256 over the config and every weight/buffer (names, dtypes, shapes, bytes)."""
        h = hashlib.sha256(json.dumps(self.config.to_dict(), sort_keys=True).encode())
        for name, t in sorted(self.state_dict().items()):
            t = t.detach().cpu().contiguous()
            h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        return h.hexdigest()

    def save(self, directory: str | Path) -> Path:
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_FILE))
        meta = {"format_version": FORMAT_VERSION, "variant": self.variant,
                "class": f"{type(self).__module__}:{type(self).__qualname__}",
                "config": self.config.to_dict(), "fingerprint": self.fingerprint()}
        (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, tokenizer_cls: type["MotionTokenizer"] | None = None,
             map_location: str = "cpu") -> "MotionTokenizer":
        """Load a saved tokenizer. Class: `tokenizer_cls`, else the class `load` was called
        on (if not the base), else the registry by variant, else config.json's "class"."""
        from safetensors.torch import load_file

        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file() or not (directory / WEIGHTS_FILE).is_file():
            raise UserError(f"not a tokenizer directory (needs {CONFIG_FILE} and {WEIGHTS_FILE}): {directory}")
        from hmvlm_bench.checkpoint_io import json_problem, safetensors_problem

        why = json_problem(directory / CONFIG_FILE) or safetensors_problem(directory / WEIGHTS_FILE)
        if why:
            raise UserError(why)
        meta = json.loads((directory / CONFIG_FILE).read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise UserError(f"unsupported tokenizer format_version {meta.get('format_version')} in {directory}")
        try:
            config = TokenizerConfig.from_dict(meta["config"])
        except UserError as exc:
            raise UserError(f"{directory / CONFIG_FILE}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{directory / CONFIG_FILE}: bad 'config' entry ({exc})") from None
        target = tokenizer_cls or (cls if cls is not MotionTokenizer else None)
        target = target or tokenizer_class(config.variant, directory / CONFIG_FILE)
        model = target(config)
        state = load_file(str(directory / WEIGHTS_FILE), device=map_location)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise UserError(f"tokenizer weights do not match {target.__name__}: missing {missing[:3]}, "
                            f"unexpected {unexpected[:3]}")
        return model.eval()


def tokenizer_class(variant: str, source: Path | str = "config") -> type[MotionTokenizer]:
    """The registered class of a variant (imports only `TOKENIZER_MODULES`)."""
    for module in TOKENIZER_MODULES:
        if variant in TOKENIZER_CLASSES:
            break
        importlib.import_module(module)
    if variant not in TOKENIZER_CLASSES:
        raise UserError(f"{source}: unknown tokenizer variant {variant!r} "
                        f"(known: {', '.join(sorted(TOKENIZER_CLASSES))})")
    return TOKENIZER_CLASSES[variant]


def load_tokenizer(directory: str | Path) -> MotionTokenizer:
    """Load any saved tokenizer (body-part, pose, whole-body, whole-body-x5)."""
    return MotionTokenizer.load(directory)
