"""`lm_eval --model hmvlm` from lm-eval's own CLI: the import hook installed by a .pth file."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from hmvlm_bench import lm_eval_adapter as A
from hmvlm_bench.lm_eval_hook import TARGET

TASK_DIR = Path(__file__).resolve().parents[2] / "tasks" / "lm_eval"
PTH = Path(sysconfig.get_paths()["purelib"]) / "hmvlm_bench_lm_eval.pth"


def _py(code: str) -> str:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.skipif(not PTH.is_file(), reason="package not installed with its .pth hook (pip install -e .)")
def test_fresh_interpreter_knows_hmvlm_lazily_and_keeps_lm_evals_own_models() -> None:
    out = _py(
        "import sys\n"
        "from lm_eval.api.registry import model_registry, get_model\n"
        "print(model_registry._objs['hmvlm'])\n"
        "print('torch' in sys.modules, 'hmvlm_bench.lm_eval_adapter' in sys.modules)\n"
        "print(get_model('dummy').__name__)\n"  # registering ours must not hide lm-eval's
    ).split("\n")
    assert out[0] == TARGET  # a placeholder: nothing heavy imported until --model hmvlm
    assert out[1] == "False False"
    assert out[2] == "DummyLM"


def test_hook_registers_when_lm_eval_is_already_imported() -> None:
    # install() after lm-eval's registry is loaded registers at once; the adapter's own
    # decorator then upgrades the placeholder to the class
    out = _py(
        "import lm_eval.api.registry as r\n"
        "from hmvlm_bench.lm_eval_hook import install\n"
        "install()\n"
        "import hmvlm_bench.lm_eval_adapter as a\n"
        "print(r.get_model('hmvlm') is a.HmvlmLM, r.get_model('hf').__name__)\n"
    )
    assert out.strip() == "True HFLM"


def test_default_is_the_tuned_model_at_the_mini_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(model: str, preset: str, args: dict[str, str]) -> str:
        seen.update(model=model, preset=preset, args=args)
        return "backend"

    monkeypatch.setattr(A, "_registry_backend", fake)
    assert A.build_lm_backend({}) == "backend"
    assert seen == {"model": "hmvlm", "preset": "mini", "args": {}}
    A.build_lm_backend({"preset": "tiny", "steps": "3"})
    assert seen == {"model": "hmvlm", "preset": "tiny", "args": {"steps": "3"}}


def test_lm_eval_run_says_which_model_it_scores() -> None:
    base = A.HFBackend(hf_model=None, tokenizer=None, name="tiny-llama", fingerprint="tiny-llama:h64")
    line = A.describe_backend(base, {"model": "base", "preset": "tiny"})
    assert "tiny-llama" in line and "preset tiny" in line and "model=hmvlm" in line
    tuned = A.describe_backend(A.HFBackend(None, None, name="hmvlm", fingerprint="ab" * 20), {})
    assert "'hmvlm'" in tuned and "preset mini" in tuned and "model=base" in tuned


@pytest.mark.slow
@pytest.mark.skipif(not PTH.is_file(), reason="package not installed with its .pth hook")
def test_stock_lm_eval_cli_scores_the_tuned_tiny_model(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("lm_eval")
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    res = subprocess.run([str(exe), "--model", "hmvlm", "--model_args", "preset=tiny", "--tasks", "hmvlm_news_ppl",
                          "--include_path", str(TASK_DIR), "--limit", "4"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "hmvlm lm-eval: scoring model 'hmvlm' (preset tiny" in res.stderr
    assert "bits_per_byte" in res.stdout
