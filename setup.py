"""Setuptools shim: everything is in pyproject.toml except one file outside the package.

`hmvlm_bench_lm_eval.pth` must land at the top of site-packages (Python runs .pth files
only there) so that lm-eval's stock CLI knows `--model hmvlm` (see
hmvlm_bench/lm_eval_hook.py). Setuptools has no declarative option for that: build_py
copies it to the root of the build (= the wheel root = site-packages), and editable
wheels, which keep only setuptools' own finder, get it added beside that finder.
"""
from __future__ import annotations

import os
from typing import Any

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = "hmvlm_bench_lm_eval.pth"
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hmvlm_bench", PTH)


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            self.copy_file(SOURCE, os.path.join(self.build_lib, PTH), preserve_mode=0)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), os.path.join(self.build_lib, PTH)]


class _WithPth:
    """Wraps setuptools' editable strategy (a context manager called with the wheel)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, wheel: Any, files: Any, mapping: Any) -> None:
        self.inner(wheel, files, mapping)
        with open(SOURCE, "rb") as f:
            wheel.writestr(PTH, f.read())

    def __enter__(self) -> "_WithPth":
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self.inner.__exit__(*exc)


class EditableWheelWithPth(editable_wheel):
    # `_select_strategy` is setuptools-internal (stable since 64); the hook is a
    # convenience, so an incompatible setuptools only loses `lm_eval --model hmvlm`.
    def _select_strategy(self, *args: Any, **kwargs: Any) -> Any:
        return _WithPth(super()._select_strategy(*args, **kwargs))


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
