"""Internal errors fail their (model, task) pair alone; content edits invalidate caches."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.hostile.conftest import REPO, invoke

FAULT = REPO / "tests" / "hostile" / "plugins" / "fault_plugin.py"
RUN = ["run", "--preset", "tiny", "--no-progress", "--include-path", str(FAULT)]


def test_internal_error_fails_its_pair_alone(tmp_path):
    out = tmp_path / "out"
    np.save(tmp_path / "w.npy", np.ones(4))
    res = invoke([*RUN, "--tasks", "fault_boom,fault_ok", "--models", "broken-model,weights-model",
                  "--model-args", f"checkpoint={tmp_path / 'w.npy'}", "-o", str(out)])
    assert res.rc == 1, res.err
    assert "Traceback" not in res.err
    # the pairs after the failures ran and were kept
    assert (out / "weights-model" / "fault_ok.json").is_file()
    assert not (out / "weights-model" / "fault_boom.json").exists()
    assert not (out / "broken-model").exists()
    assert "3 pair(s) failed" in res.err
    assert "weights-model / fault_boom: ZeroDivisionError: a bug inside the task" in res.err
    assert "broken-model / fault_ok: RuntimeError: weights have the wrong shape" in res.err


def _score(out: Path) -> float:
    return json.loads((out / "weights-model" / "fault_ok.json").read_text())["metrics"]["score"]["value"]


def test_same_size_edit_of_a_checkpoint_is_recomputed(tmp_path):
    out, w = tmp_path / "out", tmp_path / "w.npy"
    np.save(w, np.ones(4))
    args = [*RUN, "--tasks", "fault_ok", "--models", "weights-model", "--model-args", f"checkpoint={w}",
            "-o", str(out)]
    assert invoke(args).rc == 0
    first = _score(out)
    assert "already up to date" in invoke(args).err
    size = w.stat().st_size
    np.save(w, np.full(4, 0.5))  # same size, other values
    assert w.stat().st_size == size
    res = invoke(args)
    assert res.rc == 0 and "already up to date" not in res.err
    assert _score(out) == first - 6.0  # 3 values per motion, each 2.0 lower


def test_digest_memo_skips_unchanged_files_and_sees_edits(tmp_path, monkeypatch):
    import hmvlm_bench.filehash as fh

    monkeypatch.setenv("HMVLM_BENCH_CACHE", str(tmp_path / "cache"))
    calls: list[Path] = []
    real = fh.file_sha256
    monkeypatch.setattr(fh, "file_sha256", lambda p: calls.append(p) or real(p))
    memo = fh._Memo()
    monkeypatch.setattr(fh, "_MEMO", memo)
    f = tmp_path / "t.bin"
    f.write_bytes(b"a" * 100)
    d1 = fh.tree_digest(tmp_path / "t.bin")
    assert fh.tree_digest(tmp_path / "t.bin") == d1 and len(calls) == 1
    # a new process (fresh memo) reads the saved memo: stat only
    monkeypatch.setattr(fh, "_MEMO", fh._Memo())
    assert fh.tree_digest(f) == d1 and len(calls) == 1
    f.write_bytes(b"b" * 100)  # same size
    assert fh.tree_digest(f) != d1 and len(calls) == 2


def test_forgetting_suite_hash_follows_data_bytes(tmp_path, monkeypatch):
    import tasks.forgetting as fg

    suite = tmp_path / "lm_eval"
    (suite / "data").mkdir(parents=True)
    for name in ("hmvlm_news_ppl", "hmvlm_knowledge_mc", "hmvlm_retention"):
        (suite / f"{name}.yaml").write_text(f"task: {name}\n")
    (suite / "hmvlm_utils.py").write_text("# hooks\n")
    data = suite / "data" / "news_ppl.jsonl"
    data.write_text('{"text": "abc"}\n')
    monkeypatch.setattr(fg, "SUITE_DIR", suite)
    before = fg.Forgetting(None)._suite_versions()
    data.write_text('{"text": "abd"}\n')  # same size
    assert fg.Forgetting(None)._suite_versions() != before
    (suite / "hmvlm_utils.py").write_text("# hookz\n")
    assert fg.Forgetting(None)._suite_versions() != before


def test_random_baseline_fingerprint_covers_the_train_split(tmp_path, cache_dir):
    from hmvlm_bench.artifacts import ArtifactStore
    from hmvlm_bench.context import DataCatalog, ModelContext
    from hmvlm_bench.motion.synthetic import synthesize
    from hmvlm_bench.presets import get_preset
    from baselines.reference_rows import RandomModel

    root = synthesize(tmp_path / "d", size=40, seed=0)

    def fp() -> str:
        p = get_preset("tiny")
        data = DataCatalog(p, ArtifactStore(cache_dir), {"mine": root})
        return RandomModel.fingerprint(ModelContext(preset=p, data=data, artifacts=data.artifacts))

    before = fp()
    train_ids = (root / "train.txt").read_text().split()
    motion = root / "new_joint_vecs" / f"{train_ids[0]}.npy"
    arr = np.load(motion)
    np.save(motion, arr * 0.5)  # same size, other values
    assert fp() != before


def test_hmvlm_checkpoint_fingerprint_follows_tensor_bytes(tmp_path, cache_dir):
    """The issue's case: motion_tokenizer/tokenizer.safetensors rewritten x0.5, same size."""
    import torch
    from safetensors.torch import save_file

    from hmvlm_bench.artifacts import ArtifactStore
    from hmvlm_bench.context import DataCatalog, ModelContext
    from hmvlm_bench.presets import get_preset
    from reference_model.hmvlm.model import HMVLMModel

    ckpt = tmp_path / "ckpt"
    (ckpt / "motion_tokenizer").mkdir(parents=True)
    (ckpt / "config.json").write_text("{}")
    tensors = ckpt / "motion_tokenizer" / "tokenizer.safetensors"
    save_file({"w": torch.ones(8)}, str(tensors))
    p = get_preset("tiny")
    data = DataCatalog(p, ArtifactStore(cache_dir))
    ctx = ModelContext(preset=p, data=data, artifacts=data.artifacts, model_args={"checkpoint": str(ckpt)})
    before, size = HMVLMModel.fingerprint(ctx), tensors.stat().st_size
    save_file({"w": torch.ones(8) * 0.5}, str(tensors))
    assert tensors.stat().st_size == size
    assert HMVLMModel.fingerprint(ctx) != before


def test_disk_full_while_writing_a_result(tmp_path, monkeypatch):
    import errno
    import os

    import hmvlm_bench.results as results

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results.os, "fsync", full)
    out = tmp_path / "out"
    np.save(tmp_path / "w.npy", np.ones(4))
    res = invoke([*RUN, "--tasks", "fault_ok", "--models", "weights-model",
                  "--model-args", f"checkpoint={tmp_path / 'w.npy'}", "-o", str(out)])
    from tests.hostile.conftest import assert_one_error

    assert_one_error(res, "No space left on device", str(out / "weights-model"))
    assert [p.name for p in out.rglob("*") if p.is_file()] == []  # no partial or temp file
