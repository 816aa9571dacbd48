"""`run` inputs checked before any work: model args, devices, names, output folders.

Each case: exit 2, one `error:` line naming the bad input, and the output folder untouched
(not even created)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hostile.conftest import TOY, assert_one_error, invoke, snapshot

BASE = ["run", "--preset", "tiny", "--no-progress"]

# (extra argv, needles in the error line); the output dir is appended by the test
CASES = [
    (["--tasks", "t2m", "--model-args", "chekpoint=/x"], ["'chekpoint'", "did you mean 'checkpoint'"]),
    (["--tasks", "t2m", "--model-args", "a=b=c"], ["'a'"]),
    (["--tasks", "t2m", "--model-args", "steps=abc"], ["steps=abc", "not an integer"]),
    (["--tasks", "t2m", "--model-args", "decoding=bogus"], ["decoding=bogus", "sample | greedy"]),
    (["--tasks", "t2m", "--model-args", "batch_size=0"], ["batch_size=0", ">= 1"]),
    (["--tasks", "t2m", "--model-args", "cfg_scale=strong"], ["cfg_scale=strong", "not a number"]),
    (["--tasks", "t2m", "--model-args", "cfg_scale=nan"], ["cfg_scale=nan", "not a finite number"]),
    (["--tasks", "t2m", "--model-args", "cfg_scale=0.5"], ["cfg_scale=0.5", ">= 1.0"]),
    (["--tasks", "t2m", "--model-args", "random_weights=maybe"], ["random_weights=maybe"]),
    (["--tasks", "t2m", "--model-args", "steps"], ["expected NAME=VALUE", "'steps'"]),
    (["--tasks", "t2m", "--model-args", "=3"], ["expected NAME=VALUE"]),
    (["--tasks", "t2m", "--model-args", "steps=1,steps=2"], ["'steps' given twice"]),
    (["--tasks", "t2m", "--models", "ground-truth", "--model-args", "steps=3"],
     ["'steps'", "ground-truth", "accepted: none"]),
    (["--tasks", "reconstruction", "--models", "tokenizer-whole-body", "--model-args", "train_dta=x"],
     ["'train_dta'", "did you mean 'train_data'"]),
    (["--tasks", "t2m", "--device", "banana"], ["--device 'banana'"]),
    (["--tasks", "t2m", "--device", "cpu:1"], ["--device 'cpu:1'"]),
    (["--tasks", "t2m", "--device", "cuda:x"], ["--device 'cuda:x'"]),
    (["--tasks", ""], ["--tasks is empty"]),
    (["--tasks", ",,"], ["--tasks is empty"]),
    (["--tasks", "t2m", "--models", ""], ["--models is empty"]),
    (["--tasks", "x2m"], ["unknown task 'x2m'", "did you mean 't2m'"]),
    (["--tasks", "t2m", "--models", "hmvml"], ["unknown model 'hmvml'", "did you mean 'hmvlm'"]),
    (["--tasks", "t2m", "--preset", "huge"], ["unknown preset 'huge'"]),
    (["--tasks", "t2m", "--launcher", "mpi"], ["launcher 'mpi'"]),
    (["--tasks", "t2m", "--data", "humanml3d"], ["--data", "expected NAME=VALUE"]),
    (["--tasks", "t2m", "--dataset", "humanml3d"], ["humanml3d", "--data humanml3d=DIR"]),
    (["--tasks", "t2m", "--data", "synthetic=/nonexistent/h3d"],
     ["/nonexistent/h3d"]),
    (["--tasks", "t2m", "--model-args", "checkpoint=/nonexistent/ckpt"], ["/nonexistent/ckpt"]),
    (["--include-path", str(TOY), "--tasks", "toy_c", "--models", "toy-model"], ["'toy_c'"]),
]


@pytest.mark.parametrize("extra,needles", CASES, ids=[" ".join(e) or "empty" for e, _ in CASES])
def test_bad_run_input_stops_before_work(tmp_path, extra, needles):
    out = tmp_path / "out"
    res = invoke([*BASE, *extra, "-o", str(out)])
    assert_one_error(res, *needles)
    assert not out.exists(), snapshot(out)


def test_cuda_without_a_gpu_is_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    out = tmp_path / "out"
    assert_one_error(invoke([*BASE, "--tasks", "t2m", "--device", "cuda", "-o", str(out)]),
                     "--device 'cuda'", "no CUDA device")
    assert not out.exists()


def _output_cases(tmp_path: Path) -> list[tuple[list[str], list[str]]]:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return [
        (["-o", str(a_file)], ["output dir", str(a_file), "is a file"]),
        (["-o", str(a_file / "sub")], ["output dir", str(a_file), "is a file"]),
        (["--cache-dir", str(a_file)], ["cache dir", str(a_file), "is a file"]),
        (["--report-dir", str(a_file)], ["--report-dir", str(a_file), "is a file"]),
    ]


def test_output_paths_that_are_files(tmp_path):
    for extra, needles in _output_cases(tmp_path):
        before = snapshot(tmp_path)
        res = invoke([*BASE, "--include-path", str(TOY), "--tasks", "toy_a", "--models", "toy-model",
                      *(extra if extra[0] == "-o" else [*extra, "-o", str(tmp_path / "out")])])
        assert_one_error(res, *needles)
        assert snapshot(tmp_path) == before, extra


def _read_only_dir(tmp_path: Path) -> Path:
    """A folder this process cannot write: chmod for users; root ignores modes, so then
    a read-only kernel folder (/proc/sys refuses writes even to root)."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    if not os.access("/proc/sys", os.F_OK) or os.access("/proc/sys", os.W_OK):
        pytest.skip("no read-only folder available to root here")
    return Path("/proc/sys")


@pytest.mark.parametrize("flag", ["-o", "--cache-dir", "--report-dir"])
def test_read_only_output_paths(tmp_path, flag):
    ro = _read_only_dir(tmp_path)
    target = ro / "hmvlm-out"
    args = [*BASE, "--include-path", str(TOY), "--tasks", "toy_a", "--models", "toy-model", flag, str(target)]
    if flag != "-o":
        args += ["-o", str(tmp_path / "out")]
    assert_one_error(invoke(args), str(target), "not writable")
    assert not target.exists() and not (tmp_path / "out").exists()
