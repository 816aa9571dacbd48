"""`--include-path`: plugins are trusted code, but a broken one is named in one line, and
files that define no `register` are never run."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import assert_one_error, invoke

LS = ["ls", "tasks", "--include-path"]

PLUGINS = {
    "syntax error": ("def register(regs)\n    pass\n", ["syntax error at line 1"]),
    "raises on import": ("raise RuntimeError('plugin broke')\ndef register(regs): pass\n",
                         ["RuntimeError: plugin broke"]),
    "register raises": ("def register(regs):\n    raise KeyError('x')\n", ["KeyError"]),
    "duplicate name": ("def register(regs):\n    regs.tasks.register('t2m', 'tasks.t2m:T2M')\n",
                       ["task 't2m' is already registered"]),
    "imports nothing": ("import no_such_module_hmvlm\ndef register(regs): pass\n",
                        ["No module named 'no_such_module_hmvlm'"]),
    "NUL bytes": ("def register(regs): pass\n\0\n", ["null bytes"]),
    "no register": ("x = 1\n", ["defines no register(registries)"]),
}


@pytest.mark.parametrize("case", sorted(PLUGINS))
def test_broken_plugin_file_is_named(tmp_path, case):
    src, needles = PLUGINS[case]
    f = tmp_path / "plug.py"
    f.write_text(src)
    assert_one_error(invoke([*LS, str(f)]), str(f), *needles)


def test_broken_plugin_in_a_folder_is_named(tmp_path):
    (tmp_path / "ok.py").write_text("def register(regs): pass\n")
    (tmp_path / "bad.py").write_text("def register(regs):\n  return 1 +\n")
    assert_one_error(invoke([*LS, str(tmp_path)]), str(tmp_path / "bad.py"), "syntax error at line 2")


def test_folder_scripts_without_register_are_not_run(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "helper.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (tmp_path / "plug.py").write_text("def register(regs): pass\n")
    res = invoke([*LS, str(tmp_path)])
    assert res.rc == 0, res.err
    assert not marker.exists()


def test_missing_include_path(tmp_path):
    assert_one_error(invoke([*LS, str(tmp_path / "nope")]), str(tmp_path / "nope"), "does not exist")
