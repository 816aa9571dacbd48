"""Start `python -m hmvlm_bench ...` as 1 process or as N CPU processes under `accelerate launch`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def launch(args: list[str], nproc: int, cache: Path, config_file: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HMVLM_BENCH_CACHE=str(cache))
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    if nproc == 1:
        cmd = [sys.executable, "-m", "hmvlm_bench", *args]
    else:
        accelerate = [str(Path(sys.executable).with_name("accelerate")), "launch"]
        if config_file is not None:  # the config's values, with the CPU's process count and precision
            accelerate += ["--config_file", str(config_file)]
        else:
            accelerate += ["--multi_gpu", "--num_machines", "1", "--dynamo_backend", "no"]
        cmd = [*accelerate, "--num_processes", str(nproc), "--mixed_precision", "no", "--main_process_port", "0",
               "-m", "hmvlm_bench", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=REPO)


def crash_after_checkpoint(out: Path, cache: Path, step: int, **train_kwargs: object) -> None:
    """A 1-process `train_model` into `out` that dies (KeyboardInterrupt) right after writing
    its step-`step` checkpoint, as a killed job would: `out/work` then resumes from there."""
    import json

    import pytest

    from reference_model.hmvlm import training as TR

    original = TR._save_work

    def save_then_stop(work, net, opt, at, history, elapsed, **kw):  # type: ignore[no-untyped-def]
        original(work, net, opt, at, history, elapsed, **kw)
        if at == step:
            raise KeyboardInterrupt(f"simulated crash after the step-{step} checkpoint")

    mp = pytest.MonkeyPatch()
    mp.setattr(TR, "_save_work", save_then_stop)
    try:
        with pytest.raises(KeyboardInterrupt):
            TR.train_model(out=out, cache_dir=cache, progress=False, **train_kwargs)  # type: ignore[arg-type]
    finally:
        mp.undo()
    assert json.loads((out / "work" / "state.json").read_text())["step"] == step
