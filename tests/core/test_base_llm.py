"""One base-LLM loader (`hmvlm_bench.base_llm`) behind the reference model and the lm-eval
backend: the same weights on tiny (and mini), and on a local folder each caller's stated
dtype (the model: float32 on CPU / bfloat16 on CUDA; lm-eval's base row: the checkpoint's)."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from hmvlm_bench import base_llm
from hmvlm_bench.errors import UserError
from hmvlm_bench.presets import PRESETS


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_model_and_lm_eval_backend_load_the_same_tiny_llm() -> None:
    from hmvlm_bench.lm_eval_adapter import build_lm_backend
    from reference_model.hmvlm.network import load_base_llm

    model, tok = load_base_llm(SimpleNamespace(llm=base_llm.TINY_LLAMA, llm_path=None, seed=3))
    backend = build_lm_backend({"model": "base", "preset": "tiny", "seed": "3"})
    assert model.dtype == torch.float32 and not model.training
    assert _same_weights(model, backend.hf_model) and len(tok) == len(backend.tokenizer)


@pytest.fixture(scope="module")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama saved as a local HF folder in bfloat16 (as a 7B checkpoint ships fp16)."""
    model, tok = base_llm.load_base_llm(base_llm.TINY_LLAMA, seed=1)
    out = tmp_path_factory.mktemp("local_llm")
    model.to(torch.bfloat16).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_local_folder_dtype_is_each_callers(local_llm: Path) -> None:
    from hmvlm_bench.lm_eval_adapter import build_lm_backend
    from reference_model.hmvlm.network import load_base_llm

    model, tok = load_base_llm(SimpleNamespace(llm="vicuna-7b", llm_path=str(local_llm), seed=0))
    want = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    assert model.dtype == want and not model.training and tok.pad_token_id is not None
    backend = build_lm_backend({"model": "base", "llm_path": str(local_llm)})
    assert backend.hf_model.dtype == torch.bfloat16  # "auto": the checkpoint's own dtype
    a = {k: v.float() for k, v in model.state_dict().items()}
    b = {k: v.float() for k, v in backend.hf_model.state_dict().items()}
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # bf16 weights, exactly


def test_random_weights_keep_the_architecture(local_llm: Path) -> None:
    model, _ = base_llm.load_base_llm("x", path=local_llm, random_weights=True)
    assert model.config.hidden_size == 64 and model.dtype == torch.float32


def test_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a local directory"):
        base_llm.load_base_llm("vicuna-7b", path=tmp_path / "missing")
    with pytest.raises(UserError, match="not built in"):
        base_llm.load_base_llm("vicuna-7b")
    with pytest.raises(UserError, match="float32 only"):
        base_llm.load_base_llm(base_llm.TINY_LLAMA, dtype=torch.bfloat16)



@pytest.mark.parametrize("preset", list(PRESETS))
def test_model_and_lm_eval_backend_take_the_base_llm_from_one_table(preset: str, monkeypatch) -> None:
    """`BASE_LLMS` names each registered preset's base LLM once: the model config starts
    from it and lm-eval's `model=base` loads it (an entry PATH needs llm_path=DIR)."""
    from hmvlm_bench import lm_eval_adapter
    from reference_model.hmvlm.config import LLMS, HMVLMConfig
    from reference_model.hmvlm.network import llm_fingerprint

    llm = base_llm.BASE_LLMS[preset]
    assert llm in LLMS
    folders = ({"llm_path": "/models/llm", "gate_encoder_path": "/models/clip", "vision_path": "/models/clip"}
               if llm == base_llm.PATH else {})
    cfg = HMVLMConfig.for_preset(preset, **folders)  # no `llm=` given: the table's
    assert cfg.llm == llm
    loaded: list[str] = []
    monkeypatch.setattr(base_llm, "load_base_llm", lambda name, **kw: (loaded.append(name), ("model", "tok"))[1])
    if llm == base_llm.PATH:
        with pytest.raises(UserError, match="llm_path=DIR"):
            lm_eval_adapter.build_lm_backend({"model": "base", "preset": preset})
        assert loaded == []
        return
    backend = lm_eval_adapter.build_lm_backend({"model": "base", "preset": preset, "seed": "3"})
    assert loaded == [llm] and backend.name == llm
    assert backend.fingerprint == llm_fingerprint(cfg.replace(seed=3))  # one identity function
