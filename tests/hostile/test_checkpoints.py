"""Hostile checkpoints: broken files are named in one line before any work; a checkpoint's
config cannot make us import a module of its choosing."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.hostile.conftest import assert_one_error, invoke

RUN = ["run", "--preset", "tiny", "--tasks", "t2m", "--models", "hmvlm", "--no-progress"]


def _checkpoint(root: Path) -> Path:
    """A folder shaped like a `train model` checkpoint (contents are not loaded here)."""
    (root / "motion_tokenizer").mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"variant": "hmvlm"}))
    (root / "motion_tokenizer" / "config.json").write_text(json.dumps({"variant": "body-part"}))
    save_file({"w": torch.ones(64)}, str(root / "motion_tokenizer" / "tokenizer.safetensors"))
    save_file({"g": torch.ones(8)}, str(root / "gate.safetensors"))
    return root


def _truncate(p: Path, keep: int) -> None:
    p.write_bytes(p.read_bytes()[:keep])


BREAKS = {
    "empty config.json": ("config.json", lambda p: p.write_bytes(b""), "empty file"),
    "truncated config.json": ("config.json", lambda p: _truncate(p, 5), "not valid JSON"),
    "config.json a list": ("config.json", lambda p: p.write_text("[1, 2]"), "expected a JSON object"),
    "latin-1 config.json": ("config.json", lambda p: p.write_bytes('{"n": "é"}'.encode("latin-1")), "UTF-8"),
    "empty tensors": ("gate.safetensors", lambda p: p.write_bytes(b""), "empty safetensors"),
    "truncated tensors": ("motion_tokenizer/tokenizer.safetensors", lambda p: _truncate(p, 100), "truncated"),
    "tensors cut in header": ("gate.safetensors", lambda p: _truncate(p, 20), "truncated"),
    "garbage tensors": ("gate.safetensors", lambda p: p.write_bytes(b"\x10" + b"\0" * 7 + b"not json at all!"),
                        "not a safetensors file"),
    "nested empty config": ("motion_tokenizer/config.json", lambda p: p.write_bytes(b""), "empty file"),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_broken_checkpoint_file_is_named(tmp_path, case):
    rel, breaker, why = BREAKS[case]
    ckpt = _checkpoint(tmp_path / "ckpt")
    breaker(ckpt / rel)
    out = tmp_path / "out"
    res = invoke([*RUN, "--model-args", f"checkpoint={ckpt}", "-o", str(out)])
    assert_one_error(res, str(ckpt / rel), why)
    assert not out.exists()


def test_checkpoint_without_config(tmp_path):
    ckpt = _checkpoint(tmp_path / "ckpt")
    (ckpt / "config.json").unlink()
    res = invoke([*RUN, "--model-args", f"checkpoint={ckpt}", "-o", str(tmp_path / "out")])
    assert_one_error(res, str(ckpt), "no config.json")


def test_checkpoint_that_is_a_file(tmp_path):
    f = tmp_path / "ckpt.bin"
    f.write_bytes(b"x")
    res = invoke([*RUN, "--model-args", f"checkpoint={f}", "-o", str(tmp_path / "out")])
    assert_one_error(res, str(f), "no such directory")


def _saved_tokenizer(root: Path) -> Path:
    from reference_model.tokenizer.body_part import BodyPartTokenizer
    from reference_model.tokenizer.config import TokenizerConfig

    return BodyPartTokenizer(TokenizerConfig.for_preset("tiny", "body-part")).save(root)


def test_config_class_string_is_never_imported(tmp_path, monkeypatch):
    """The issue's crafted checkpoint: "class" named a module on the path, which ran."""
    from reference_model.tokenizer.base import load_tokenizer

    evil = tmp_path / "mods"
    evil.mkdir()
    marker = tmp_path / "ran"
    (evil / "evil_tok.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nclass Tok: pass\n")
    monkeypatch.syspath_prepend(str(evil))
    tok = _saved_tokenizer(tmp_path / "tok")
    meta = json.loads((tok / "config.json").read_text())
    meta["class"] = "evil_tok:Tok"
    (tok / "config.json").write_text(json.dumps(meta))
    load_tokenizer(tok)  # the registry decides by variant; the string is informational
    assert not marker.exists() and "evil_tok" not in sys.modules
    meta["config"]["variant"] = "evil"
    (tok / "config.json").write_text(json.dumps(meta))
    from hmvlm_bench.errors import UserError

    with pytest.raises(UserError, match=r"config.json: unknown tokenizer variant 'evil'"):
        load_tokenizer(tok)
    assert not marker.exists()


@pytest.mark.parametrize("breaker,why", [
    (lambda d: (d / "config.json").write_bytes(b""), "config.json: not valid JSON (empty file)"),
    (lambda d: _truncate(d / "tokenizer.safetensors", 200), "tokenizer.safetensors: truncated"),
])
def test_broken_tokenizer_files_are_named(tmp_path, breaker, why):
    from hmvlm_bench.errors import UserError
    from reference_model.tokenizer.base import load_tokenizer

    tok = _saved_tokenizer(tmp_path / "tok")
    breaker(tok)
    with pytest.raises(UserError, match=why.replace("(", r"\(").replace(")", r"\)")):
        load_tokenizer(tok)
