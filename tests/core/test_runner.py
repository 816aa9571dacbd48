from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


from hmvlm_bench.plugins import load_registries
from hmvlm_bench.runner import RunConfig, expand_tasks, run

TOY = Path(__file__).resolve().parents[1] / "fixtures" / "plugins" / "toy_plugin.py"


def _cfg(out: Path, **kw) -> RunConfig:
    base = dict(tasks=["toy_a", "toy_b"], models=["toy-model", "toy-lm"], preset="tiny",
                output_dir=out, progress=False, limit=8)
    base.update(kw)
    return RunConfig(**base)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_second_run_recomputes_nothing_and_keeps_bytes(tmp_path):
    regs = load_registries([TOY])
    first = run(_cfg(tmp_path), regs)
    assert [o.status for o in first.outcomes if o.model == "toy-model"] == ["computed", "computed"]
    # the language-only model cannot do motion tasks: listed, not crashed
    assert {(o.task, o.status) for o in first.outcomes if o.model == "toy-lm"} == {
        ("toy_a", "skipped"), ("toy_b", "skipped")}
    before = _snapshot(tmp_path)
    second = run(_cfg(tmp_path), regs)
    assert not second.by_status("computed")
    assert len(second.by_status("cached")) == 2
    assert _snapshot(tmp_path) == before


def test_result_records_its_run_settings(tmp_path):
    """Sampled metrics depend on torch's thread count (README, protocol notes): it is part
    of every result's provenance, beside the device and the seed."""
    import torch

    regs = load_registries([TOY])
    out = run(_cfg(tmp_path, models=["toy-model"], tasks=["toy_a"]), regs)
    (path,) = [o.path for o in out.outcomes if o.status == "computed"]
    run_cfg = json.loads(Path(path).read_text())["config"]["run"]
    assert run_cfg["torch_threads"] == torch.get_num_threads() >= 1
    assert run_cfg["seed"] == 0 and run_cfg["limit"] == 8


def test_changed_inputs_invalidate_the_cached_result(tmp_path):
    regs = load_registries([TOY])
    run(_cfg(tmp_path, tasks=["toy_a"]), regs)
    # a different limit changes the task hash; different model args the fingerprint
    assert run(_cfg(tmp_path, tasks=["toy_a"], limit=4), regs).by_status("computed")
    assert run(_cfg(tmp_path, tasks=["toy_a"], limit=4, model_args={"x": "1"}), regs).by_status("computed")
    assert not run(_cfg(tmp_path, tasks=["toy_a"], limit=4, model_args={"x": "1"}), regs).by_status("computed")


def test_groups_and_all_expand(tmp_path):
    regs = load_registries([TOY])
    assert expand_tasks(["toy_group"], regs) == ["toy_a", "toy_b"]
    # installed plugins register too; the toy ones expand in name order, hidden ones never
    assert [t for t in expand_tasks(["all"], regs) if t.startswith("toy_")] == ["toy_a", "toy_b", "toy_slow"]
    assert "pose_from_image_h36m" not in expand_tasks(["all"], regs)


def _cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    e = {**os.environ, **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "hmvlm_bench", *args], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _metrics(root: Path) -> dict[str, dict]:
    return {str(p.relative_to(root)): json.loads(p.read_text())["metrics"]
            for p in sorted(root.glob("*/*.json"))}


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    common = ["run", "--include-path", str(TOY), "--preset", "tiny", "--models", "toy-model",
              "--tasks", "toy_a,toy_slow,toy_b", "--no-progress"]
    clean = tmp_path / "clean"
    p = _cli(*common, "--output-dir", str(clean), env={"TOY_SLOW_SECONDS": "0"})
    assert p.wait(timeout=120) == 0, p.stderr.read()

    killed = tmp_path / "killed"
    p = _cli(*common, "--output-dir", str(killed), env={"TOY_SLOW_SECONDS": "60"})
    first = killed / "toy-model" / "toy_a.json"
    deadline = time.time() + 60
    while not first.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert first.exists(), "the first result never appeared"
    time.sleep(0.3)  # now inside toy_slow
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    assert sorted(x.name for x in (killed / "toy-model").glob("*.json")) == ["toy_a.json"]

    p = _cli(*common, "--output-dir", str(killed), env={"TOY_SLOW_SECONDS": "0"})
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert _metrics(killed) == _metrics(clean)


def test_unknown_task_exits_2_with_suggestion():
    p = _cli("run", "--include-path", str(TOY), "--tasks", "toy_c", "--models", "toy-model",
             "--preset", "tiny")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2
    assert re.search(r"unknown task 'toy_c' — did you mean 'toy_[ab]'\?", err)
    assert "Traceback" not in err


def test_unknown_model_and_preset_exit_2():
    for args, msg in ((["--models", "toy-modl"], "did you mean 'toy-model'"),
                      (["--preset", "tinyy"], "unknown preset 'tinyy'")):
        p = _cli("run", "--include-path", str(TOY), "--tasks", "toy_a", *args)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 2, err
        assert msg in err and "Traceback" not in err


def test_ls_lists_registered_plugins():
    p = _cli("ls", "all", "--include-path", str(TOY), env={"COLUMNS": "200"})
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    for name in ("toy_a", "toy_group", "toy-model", "toy-lm", "language_model"):
        assert name in out
