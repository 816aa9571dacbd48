"""Named evaluation protocols of the motion tasks, and the pure pieces they are made of.

Two protocols (task option `protocol`, recorded in every result as `extra.eval_protocol`;
reports never put two protocols in one column):

- ``bench`` (default on the synthetic dataset): the whole clip from frame 0 at its true
  length; one caption per item drawn once with a per-sample seed; at `mini` scale one
  generation per item, the replications re-draw the R-precision batches and Diversity
  pairs (`regenerate: true` regenerates per replication); m2t scores against every
  caption of the motion, with our BLEU/CIDEr tokenisation (punctuation stripped, lower
  case). Justified on synthetic data: its clips are already a multiple of 4 frames and
  template captions have no spaCy tokens to lemmatise.
- ``guo`` (default on HumanML3D / KIT-ML): the published protocol.
  * t2m, every replication (Guo et al. text-to-motion `final_evaluations.py`, whose
    loaders are rebuilt per replication over `data/dataset.py` Text2MotionDatasetV2):
    re-draw one caption per item, re-crop the real motion (`guo_crop`), generate at the
    cropped length, embed the crops as the FID reference; MultiModality draws its texts
    per replication and samples a length per repeat (`mm_length`).
  * m2t (TM2T `text_loaders/m2t_nmt_model_dataset.py` + `data/dataset.py`, MotionGPT
    `mGPT/data/humanml/dataset_t2m_eval.py`, `mGPT/metrics/m2t.py`): the captioned motion
    is the Guo crop; references are the lemmatised token strings of the first 3 captions,
    padded to 3 by repetition (`guo_references`); CIDEr splits on whitespace only, as
    nlg-metricverse's CIDEr (`cider_planet.py` precook) that MotionGPT calls.

Everything random here takes a `random.Random` seeded per (run seed, item, replication),
so results never depend on batching, sharding or item order.
"""
from __future__ import annotations

import random
from typing import Sequence

from hmvlm_bench.errors import UserError
# the protocol names and their defaults live in the core task kit (option `protocol`)
from hmvlm_bench.taskkit import BENCH, GUO, GUO_KINDS, PROTOCOLS, check_protocol, default_protocol  # noqa: F401
# Guo et al. options: unit_length 4 (both datasets); the 'double' crop applies when
# unit_length < 10 (data/dataset.py Text2MotionDatasetV2.__getitem__)
UNIT_LENGTH = 4
# MotionGPT dataset_t2m_eval.py / TM2T: number of references per item for m2t
M2T_REFERENCES = 3


def guo_crop(length: int, rng: random.Random, unit: int = UNIT_LENGTH) -> tuple[int, int]:
    """(start, crop_length) of the reference's evaluation crop of a `length`-frame clip.

    Text2MotionDatasetV2.__getitem__ (text-to-motion data/dataset.py; the same in
    MotionGPT dataset_t2m_eval.py): with unit_length < 10 a coin picks 'single' with
    probability 2/3 (length rounded down to a multiple of the unit) or 'double' with 1/3
    (one unit shorter still); the start is uniform over every offset that fits.
    """
    if length < unit:
        raise UserError(f"cannot crop a {length}-frame motion to multiples of {unit} frames")
    coin = rng.choice(("single", "single", "double")) if unit < 10 else "single"
    units = length // unit - (1 if coin == "double" else 0)
    crop = max(units, 1) * unit  # a one-unit clip cannot lose a unit (never at min_len 24/40)
    start = rng.randint(0, length - crop)  # inclusive bounds, as random.randint there
    return start, crop


def token_words(tokens: Sequence[str]) -> str:
    """'word/POS' tokens -> the words joined by single spaces (the lemmatised caption)."""
    return " ".join(t.split("/")[0] for t in tokens)


def guo_references(token_lists: Sequence[Sequence[str]]) -> list[str]:
    """m2t references of one item: the lemmatised word strings of the first 3 captions;
    2 captions get the first repeated, 1 caption is used 3 times
    (MotionGPT dataset_t2m_eval.py `all_captions`; TM2T builds the same strings)."""
    refs = [token_words(t) for t in token_lists]
    if not refs:
        raise UserError("an item has no captions to use as references")
    if len(refs) >= M2T_REFERENCES:
        return refs[:M2T_REFERENCES]
    if len(refs) == 2:
        return refs + refs[:1]
    return refs * M2T_REFERENCES


def whitespace_tokens(text: str) -> list[str]:
    """CIDEr tokenisation of nlg-metricverse (`str.split()`: case and punctuation kept)."""
    return text.split()
