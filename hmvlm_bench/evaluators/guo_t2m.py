"""Port of Guo et al.'s (CVPR 2022) text-motion matching evaluator.

Module and parameter names mirror EricGuo5513/text-to-motion `networks/modules.py`
(MovementConvEncoder, TextEncoderBiGRUCo, MotionEncoderBiGRUCo) so the public checkpoint
`checkpoints/<t2m|kit>/text_mot_match/model/finest.tar` loads key for key (its
`movement_encoder`, `text_encoder`, `motion_encoder` dicts) with
`torch.load(..., weights_only=True)`. Text input: GloVe 300-d word vectors plus a 15-d
POS one-hot (`utils/word_vectorizer.py`); motion input: normalised features.

Motion lengths: `networks/evaluator_wrapper.py:get_co_embeddings` divides frame counts by
unit_length (4) ONCE, matching the two stride-2 convolutions. MotionGPT
(`mGPT/metrics/t2m.py:get_motion_embeddings`, `m2t.py:update`) divides twice, so its GRU
reads only the first quarter of each motion's latent steps; we follow the reference
(tests/evaluators check a hand-worked 40-frame case).
"""
from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from hmvlm_bench.errors import UserError
from hmvlm_bench.evaluators.base import Evaluator, pad_motions

# utils/word_vectorizer.py: POS tags -> one-hot index; VIP word lists override the tag.
POS_ENUMERATOR: dict[str, int] = {
    "VERB": 0, "NOUN": 1, "DET": 2, "ADP": 3, "NUM": 4, "AUX": 5, "PRON": 6, "ADJ": 7,
    "ADV": 8, "Loc_VIP": 9, "Body_VIP": 10, "Obj_VIP": 11, "Act_VIP": 12, "Desc_VIP": 13,
    "OTHER": 14,
}  # fmt: skip
VIP_WORDS: dict[str, tuple[str, ...]] = {
    "Loc_VIP": ("left", "right", "clockwise", "counterclockwise", "anticlockwise", "forward", "back",
                "backward", "up", "down", "straight", "curve"),
    "Body_VIP": ("arm", "chin", "foot", "feet", "face", "hand", "mouth", "leg", "waist", "eye", "knee",
                 "shoulder", "thigh"),
    "Obj_VIP": ("stair", "dumbbell", "chair", "window", "floor", "car", "ball", "handrail", "baseball",
                "basketball"),
    "Act_VIP": ("walk", "run", "swing", "pick", "bring", "kick", "put", "squat", "throw", "hop", "dance",
                "jump", "turn", "stumble", "dance", "stop", "sit", "lift", "lower", "raise", "wash", "stand",
                "kneel", "stroll", "rub", "bend", "balance", "flap", "jog", "shuffle", "lean", "rotate", "spin",
                "spread", "climb"),
    "Desc_VIP": ("slowly", "carefully", "fast", "careful", "slow", "quickly", "happy", "angry", "sad",
                 "happily", "angrily", "sadly"),
}  # fmt: skip
_VIP_OF = {w: tag for tag, words in VIP_WORDS.items() for w in words}


@dataclass(frozen=True)
class GuoEvaluatorConfig:
    """Dimensions of the official evaluator (networks/evaluator_wrapper.py + options)."""

    dataset: str = "t2m"  # 't2m' (HumanML3D) or 'kit'
    dim_pose: int = 263
    unit_length: int = 4
    dim_word: int = 300
    dim_pos_ohot: int = len(POS_ENUMERATOR)
    dim_movement_enc_hidden: int = 512
    dim_movement_latent: int = 512
    dim_text_hidden: int = 512
    dim_coemb_hidden: int = 512
    dim_motion_hidden: int = 1024
    max_text_len: int = 20
    max_motion_length: int = 196

    def __post_init__(self) -> None:
        if self.dataset not in ("t2m", "kit"):
            raise UserError(f"Guo evaluator dataset must be 't2m' or 'kit', got {self.dataset!r}")
        if self.unit_length < 1:
            raise UserError("unit_length must be >= 1")

    @classmethod
    def for_dataset(cls, dataset: str) -> "GuoEvaluatorConfig":
        key = {"humanml3d": "t2m", "t2m": "t2m", "kit": "kit", "kit-ml": "kit"}.get(dataset.lower())
        if key is None:
            raise UserError(f"no official evaluator for dataset {dataset!r}; use 't2m' or 'kit'")
        return cls(dataset=key, dim_pose=263 if key == "t2m" else 251)


# ---------------------------------------------------------------------------- modules


def build_modules(cfg: GuoEvaluatorConfig):
    """(movement_encoder, text_encoder, motion_encoder) torch modules, randomly initialised."""
    import torch
    from torch import nn

    class MovementConvEncoder(nn.Module):
        # Two stride-2 convs (frames / 4) then a linear; Sequential indices match the
        # reference state-dict keys main.0 / main.3 / out_net.
        def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv1d(input_size, hidden_size, 4, 2, 1),
                nn.Dropout(0.2),
                nn.LeakyReLU(0.2),
                nn.Conv1d(hidden_size, output_size, 4, 2, 1),
                nn.Dropout(0.2),
                nn.LeakyReLU(0.2),
            )
            self.out_net = nn.Linear(output_size, output_size)

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":  # (B, T, D) -> (B, T/4, latent)
            return self.out_net(self.main(x.permute(0, 2, 1)).permute(0, 2, 1))

    class _BiGRUHead(nn.Module):
        def __init__(self, hidden_size: int, output_size: int) -> None:
            super().__init__()
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True, bidirectional=True)
            self.output_net = nn.Sequential(
                nn.Linear(hidden_size * 2, hidden_size),
                nn.LayerNorm(hidden_size),
                nn.LeakyReLU(0.2),
                nn.Linear(hidden_size, output_size),
            )
            # learned initial hidden state, (2 directions, 1, hidden)
            self.hidden = nn.Parameter(torch.randn((2, 1, hidden_size)))

        def _run(self, x: "torch.Tensor", lens: "torch.Tensor") -> "torch.Tensor":
            from torch.nn.utils.rnn import pack_padded_sequence

            packed = pack_padded_sequence(x, lens.cpu(), batch_first=True, enforce_sorted=True)
            _, last = self.gru(packed, self.hidden.repeat(1, x.shape[0], 1))
            return self.output_net(torch.cat([last[0], last[1]], dim=-1))

    class TextEncoderBiGRUCo(_BiGRUHead):
        def __init__(self, word_size: int, pos_size: int, hidden_size: int, output_size: int) -> None:
            super().__init__(hidden_size, output_size)
            self.pos_emb = nn.Linear(pos_size, word_size)
            self.input_emb = nn.Linear(word_size, hidden_size)

        def forward(self, word_embs, pos_onehot, cap_lens):  # lengths sorted descending
            return self._run(self.input_emb(word_embs + self.pos_emb(pos_onehot)), cap_lens)

    class MotionEncoderBiGRUCo(_BiGRUHead):
        def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
            super().__init__(hidden_size, output_size)
            self.input_emb = nn.Linear(input_size, hidden_size)

        def forward(self, movements, m_lens):  # m_lens in latent steps, sorted descending
            return self._run(self.input_emb(movements), m_lens)

    movement = MovementConvEncoder(cfg.dim_pose - 4, cfg.dim_movement_enc_hidden, cfg.dim_movement_latent)
    text = TextEncoderBiGRUCo(cfg.dim_word, cfg.dim_pos_ohot, cfg.dim_text_hidden, cfg.dim_coemb_hidden)
    motion = MotionEncoderBiGRUCo(cfg.dim_movement_latent, cfg.dim_motion_hidden, cfg.dim_coemb_hidden)
    return movement, text, motion


# ----------------------------------------------------------------------------- GloVe


class _RestrictedUnpickler(pickle.Unpickler):
    """The official vocab files are pickles of a word list and a word->index dict. Only
    plain containers and scalars may come back: any global lookup is refused."""

    _ALLOWED = {("builtins", "list"), ("builtins", "dict"), ("builtins", "str"), ("builtins", "int")}

    def find_class(self, module: str, name: str):  # noqa: D401
        if (module, name) in self._ALLOWED:
            import builtins

            return getattr(builtins, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a vocabulary pickle")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def safe_load_pickle(path: Path) -> object:
    """Load a pickle that may hold only list/dict/str/int."""
    return _RestrictedUnpickler(io.BytesIO(Path(path).read_bytes())).load()


class WordVectorizer:
    """word/POS token -> (300-d GloVe vector, 15-d POS one-hot), as utils/word_vectorizer.py:
    unknown words map to the 'unk' vector with POS OTHER; VIP words override their tag."""

    def __init__(self, word2vec: dict[str, np.ndarray]) -> None:
        if "unk" not in word2vec:
            dim = len(next(iter(word2vec.values()))) if word2vec else 300
            word2vec = {**word2vec, "unk": np.zeros(dim, dtype=np.float32)}
        self.word2vec = word2vec
        self.dim = len(word2vec["unk"])

    @classmethod
    def from_path(cls, path: str | Path, prefix: str = "our_vab") -> "WordVectorizer":
        """A directory with `<prefix>_data.npy`, `<prefix>_words.pkl`, `<prefix>_idx.pkl`
        (the official glove/ folder), or a GloVe text file ('word v1 ... vD' lines)."""
        p = Path(path)
        if p.is_dir():
            data, words, idx = (p / f"{prefix}_data.npy", p / f"{prefix}_words.pkl", p / f"{prefix}_idx.pkl")
            for f in (data, words, idx):
                if not f.is_file():
                    raise UserError(f"GloVe folder {p} lacks {f.name}")
            # a damaged or crafted file is the user's input: one line naming it, no traceback
            try:
                vectors = np.load(data, allow_pickle=False)
            except Exception as exc:  # noqa: BLE001 - OSError, ValueError, EOFError, ...
                raise UserError(f"cannot read GloVe vectors {data}: {_first_line(exc)}") from None
            if vectors.ndim != 2 or not np.issubdtype(vectors.dtype, np.number):
                raise UserError(f"GloVe vectors {data}: expected a 2-d numeric array, got "
                                f"shape {vectors.shape} of {vectors.dtype}")
            loaded = []
            for f in (words, idx):
                try:
                    loaded.append(safe_load_pickle(f))
                except Exception as exc:  # noqa: BLE001 - unpickling bad bytes raises any of a
                    # dozen types (UnpicklingError, EOFError, OverflowError, struct.error, ...)
                    raise UserError(f"cannot read GloVe vocabulary {f}: {_first_line(exc)}") from None
            word_list, word2idx = loaded
            if not isinstance(word_list, list) or not isinstance(word2idx, dict):
                raise UserError(f"{p}: expected a word list ({words.name}) and a word->index dict "
                                f"({idx.name}), got {type(word_list).__name__} and {type(word2idx).__name__}")
            table = {}
            for w in word_list:
                i = word2idx.get(w) if isinstance(w, str) else None
                if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(vectors):
                    raise UserError(f"GloVe vocabulary {idx}: word {w!r} has no row in {data.name} "
                                    f"(index {i!r}, {len(vectors)} rows)")
                table[w] = vectors[i].astype(np.float32)
            return cls(table)
        if p.is_file():
            table: dict[str, np.ndarray] = {}
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UserError(f"cannot read GloVe file {p}: {_first_line(exc)}") from None
            dims: set[int] = set()
            for n, line in enumerate(text.splitlines(), 1):
                parts = line.rstrip().split(" ")
                if len(parts) > 2:
                    try:
                        table[parts[0]] = np.asarray(parts[1:], dtype=np.float32)
                    except ValueError:
                        raise UserError(f"GloVe file {p}: line {n} is not 'word v1 ... vD' numbers") from None
                    dims.add(len(parts) - 1)
            if not table:
                raise UserError(f"{p} holds no 'word v1 ... vD' lines")
            if len(dims) > 1:
                raise UserError(f"GloVe file {p}: vectors of different lengths {sorted(dims)}")
            return cls(table)
        raise UserError(f"GloVe path not found: {p}")

    def __getitem__(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        word, _, pos = token.partition("/")
        pos_vec = np.zeros(len(POS_ENUMERATOR), dtype=np.float32)
        if word in self.word2vec:
            tag = _VIP_OF.get(word, pos)
            pos_vec[POS_ENUMERATOR.get(tag, POS_ENUMERATOR["OTHER"])] = 1.0
            return self.word2vec[word], pos_vec
        pos_vec[POS_ENUMERATOR["OTHER"]] = 1.0
        return self.word2vec["unk"], pos_vec


def encode_tokens(
    tokens: Sequence[str], vectorizer: WordVectorizer, max_text_len: int = 20
) -> tuple[np.ndarray, np.ndarray, int]:
    """HumanML3D 'word/POS' tokens -> (word_embs (L+2, 300), pos_onehot (L+2, 15), sent_len)
    as data/dataset.py Text2MotionDatasetV2: crop to max_text_len, wrap in sos/eos, pad
    with unk to max_text_len + 2; sent_len counts sos and eos."""
    toks = list(tokens)
    if len(toks) < max_text_len:
        toks = ["sos/OTHER", *toks, "eos/OTHER"]
        sent_len = len(toks)
        toks = toks + ["unk/OTHER"] * (max_text_len + 2 - sent_len)
    else:
        toks = ["sos/OTHER", *toks[:max_text_len], "eos/OTHER"]
        sent_len = len(toks)
    pairs = [vectorizer[t] for t in toks]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), sent_len


# ------------------------------------------------------------------------ evaluator


def checkpoint_state_keys() -> tuple[str, str, str]:
    return ("movement_encoder", "text_encoder", "motion_encoder")


class GuoT2MEvaluator(Evaluator):
    """The official evaluator behind the `Evaluator` interface.

    encode_text takes HumanML3D tokens ('word/POS'); a caption given without them (a
    generated caption: `tokens=None`, or None in its place) is tagged with spaCy as
    MotionGPT/TM2T tag generated captions (`hmvlm_bench.evaluators.tagging`). Without
    spaCy's English pipeline that raises a UserError naming it; tasks check
    `tagging.tagger_problem()` in their preflight so a run never stops half-way.
    """

    def __init__(self, checkpoint: str | Path, glove: str | Path | WordVectorizer, dataset: str = "t2m") -> None:
        import torch

        self.config = GuoEvaluatorConfig.for_dataset(dataset)
        self.name = f"guo-{self.config.dataset}"
        self.dim = self.config.dim_coemb_hidden
        self.feature_dim = self.config.dim_pose
        path = Path(checkpoint)
        if not path.is_file():
            raise UserError(f"evaluator checkpoint not found: {path} (expected .../text_mot_match/model/finest.tar)")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # corrupt file, or a pickle with non-tensor objects
            raise UserError(f"cannot load {path} as a weights-only checkpoint: {exc}") from None
        self.movement, self.text, self.motion = build_modules(self.config)
        for key, module in zip(checkpoint_state_keys(), (self.movement, self.text, self.motion)):
            if key not in state:
                raise UserError(f"{path} has no '{key}' entry (keys: {sorted(state)})")
            try:
                module.load_state_dict(state[key])
            except RuntimeError as exc:
                first = str(exc).splitlines()[0]
                raise UserError(f"{path}: '{key}' does not fit the {self.config.dataset} evaluator: {first}") from None
            module.eval()
        self.vectorizer = glove if isinstance(glove, WordVectorizer) else WordVectorizer.from_path(glove)
        self._fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def encode_text(self, captions: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        import torch

        toks: list = [None] * len(captions) if tokens is None else list(tokens)
        if len(toks) != len(captions):
            raise UserError(f"{len(captions)} captions but {len(toks)} token lists")
        missing = [i for i, t in enumerate(toks) if t is None]
        if missing:
            from hmvlm_bench.evaluators.tagging import tag_captions

            for i, t in zip(missing, tag_captions([captions[i] for i in missing])):
                toks[i] = t
        tokens = toks
        enc = [encode_tokens(t, self.vectorizer, self.config.max_text_len) for t in tokens]
        words = torch.from_numpy(np.stack([e[0] for e in enc])).float()
        pos = torch.from_numpy(np.stack([e[1] for e in enc])).float()
        lens = np.array([e[2] for e in enc], dtype=np.int64)
        order = np.argsort(-lens, kind="stable")  # pack_padded_sequence wants descending lengths
        with torch.no_grad():
            emb = self.text(words[order], pos[order], torch.from_numpy(lens[order]))
        out = np.empty((len(lens), self.dim))
        out[order] = emb.double().numpy()
        return out

    def encode_motion(self, motions: Sequence[np.ndarray] | np.ndarray, lengths: Sequence[int]) -> np.ndarray:
        import torch

        # Zero-pad to 196 frames like the reference loader: the last latent step of a
        # motion sees a few frames past its end, so the padding must not vary by batch.
        batch, lens = pad_motions(motions, lengths, self.feature_dim, self.config.max_motion_length)
        units = lens // self.config.unit_length  # evaluator_wrapper.py: divide ONCE
        if (units < 1).any():
            raise UserError(f"motions shorter than {self.config.unit_length} frames cannot be encoded")
        order = np.argsort(-lens, kind="stable")  # sorted by length for packing, as the reference
        x = torch.from_numpy(batch[order])
        with torch.no_grad():
            movements = self.movement(x[..., :-4])  # foot contacts are not encoded
            emb = self.motion(movements, torch.from_numpy(units[order]))
        out = np.empty((len(lens), self.dim))
        out[order] = emb.double().numpy()
        return out


# ------------------------------------------------------------------- length estimator

# utils/get_opt.py: num_classes = 200 // unit_length; motion_loaders/comp_v6_model_dataset.py:
# a sampled length below 10 units (t2m) / 6 units (kit) is re-drawn, at most twice.
LENGTH_CLASSES = 200 // 4
MIN_LENGTH_UNITS = {"t2m": 10, "kit": 6}


def build_length_estimator(cfg: GuoEvaluatorConfig):
    """networks/modules.py MotionLenEstimatorBiGRU (state-dict keys pos_emb, input_emb,
    gru, output.{0,1,3,4,6,7,9}, hidden), randomly initialised."""
    import torch
    from torch import nn

    class MotionLenEstimatorBiGRU(nn.Module):
        def __init__(self, word_size: int, pos_size: int, hidden_size: int, output_size: int) -> None:
            super().__init__()
            self.pos_emb = nn.Linear(pos_size, word_size)
            self.input_emb = nn.Linear(word_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True, bidirectional=True)
            nd = 512
            self.output = nn.Sequential(
                nn.Linear(hidden_size * 2, nd), nn.LayerNorm(nd), nn.LeakyReLU(0.2),
                nn.Linear(nd, nd // 2), nn.LayerNorm(nd // 2), nn.LeakyReLU(0.2),
                nn.Linear(nd // 2, nd // 4), nn.LayerNorm(nd // 4), nn.LeakyReLU(0.2),
                nn.Linear(nd // 4, output_size),
            )
            self.hidden = nn.Parameter(torch.randn((2, 1, hidden_size)))

        def forward(self, word_embs, pos_onehot, cap_lens):  # lengths sorted descending
            from torch.nn.utils.rnn import pack_padded_sequence

            x = self.input_emb(word_embs + self.pos_emb(pos_onehot))
            packed = pack_padded_sequence(x, cap_lens.cpu(), batch_first=True, enforce_sorted=True)
            _, last = self.gru(packed, self.hidden.repeat(1, x.shape[0], 1))
            return self.output(torch.cat([last[0], last[1]], dim=-1))

    return MotionLenEstimatorBiGRU(cfg.dim_word, cfg.dim_pos_ohot, 512, LENGTH_CLASSES)


def length_estimator_path(root: str | Path, dataset: str) -> Path | None:
    """`length_est_bigru/model/latest.tar` in the layouts the official archive unpacks to."""
    root = Path(root)
    sub = "kit" if dataset.startswith("kit") else "t2m"
    for base in (root, root / sub, root.parent, root.parent.parent):
        p = base / "length_est_bigru" / "model" / "latest.tar"
        if p.is_file():
            return p
    return None


class GuoLengthEstimator:
    """Guo et al.'s text -> length distribution, used by the `guo` protocol to sample a
    length per MultiModality repeat as `CompV6GeneratedDataset` does."""

    def __init__(self, checkpoint: str | Path, vectorizer: WordVectorizer, dataset: str = "t2m") -> None:
        import torch

        self.config = GuoEvaluatorConfig.for_dataset(dataset)
        path = Path(checkpoint)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise UserError(f"cannot load {path} as a weights-only checkpoint: {exc}") from None
        if "estimator" not in state:
            raise UserError(f"{path} has no 'estimator' entry (keys: {sorted(state)})")
        self.net = build_length_estimator(self.config)
        try:
            self.net.load_state_dict(state["estimator"])
        except RuntimeError as exc:
            raise UserError(f"{path}: 'estimator' does not fit: {str(exc).splitlines()[0]}") from None
        self.net.eval()
        self.vectorizer = vectorizer
        self.fingerprint = hashlib.sha256(path.read_bytes()).hexdigest()

    def distribution(self, tokens: Sequence[str]) -> np.ndarray:
        """Probabilities over length classes (units of unit_length frames) for one caption."""
        import torch

        w, p, n = encode_tokens(tokens, self.vectorizer, self.config.max_text_len)
        with torch.no_grad():
            logits = self.net(torch.from_numpy(w)[None].float(), torch.from_numpy(p)[None].float(),
                              torch.tensor([n]))
        return torch.softmax(logits[0].double(), -1).numpy()

    def sample_lengths(self, tokens: Sequence[str], n: int, rng: np.random.Generator) -> list[int]:
        """n frame counts: a class drawn from the distribution, re-drawn (at most twice)
        while under the minimum, times unit_length."""
        probs = self.distribution(tokens)
        floor = MIN_LENGTH_UNITS[self.config.dataset]
        out = []
        for _ in range(n):
            units = int(rng.choice(len(probs), p=probs))
            for _ in range(2):
                if units < floor:
                    units = int(rng.choice(len(probs), p=probs))
            out.append(max(units, 1) * self.config.unit_length)
        return out
