"""Typed task options (`hmvlm_bench.taskkit.TaskOptions`): every task declares its options
once, as a dataclass; a bad value is one UserError naming the task, the option, the value
and what is accepted; an unknown name gets a did-you-mean."""
from __future__ import annotations

import dataclasses
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hmvlm_bench import taskkit as kit
from hmvlm_bench.errors import UserError
from hmvlm_bench.plugins import load_registries


def _typed_tasks() -> list[tuple[str, type]]:
    regs = load_registries([])
    out = []
    for name in regs.tasks.names():
        try:
            cls = regs.tasks.get(name)
        except UserError:  # a group
            continue
        out.append((name, cls))
    return out


TASKS = _typed_tasks()


def _fields(opts: type) -> list[tuple[dataclasses.Field, type, bool]]:
    hints = typing.get_type_hints(opts)
    out = []
    for f in dataclasses.fields(opts):
        base, nullable = kit._base_type(hints[f.name])
        out.append((f, base, nullable))
    return out


def _bad_values(f: dataclasses.Field, base: type) -> list[object]:
    meta = f.metadata
    if base is bool:
        return ["maybe", "2", 3.5, [True]]
    if base is int:
        bad: list[object] = ["many", "1.5", 1.5, True, [1]]
        if meta.get("minimum") is not None:
            bad.append(int(meta["minimum"]) - 1)
        return bad
    if base is float:
        bad = ["lots", "nan", True, [0.1]]
        if meta.get("minimum") is not None:
            bad.append(meta["minimum"] - 0.5)
        if meta.get("maximum") is not None:
            bad.append(meta["maximum"] + 0.5)
        return bad
    if base is str:
        return [["a list"], True] + (["definitely-not-a-choice"] if meta.get("choices") else [])
    return [["no_such_suite"], [], 3, [1, 2]]


def test_every_registered_task_declares_typed_options() -> None:
    for name, cls in TASKS:
        opts = getattr(cls, "Options", None)
        assert opts is not None and issubclass(opts, kit.TaskOptions), name
        for f, _, _ in _fields(opts):
            assert f.metadata.get("help"), f"{name}: option '{f.name}' has no help"
        cls.Options.parse(name, {})  # the defaults are valid


CASES = [(name, cls, f.name, bad) for name, cls in TASKS for f, base, _ in _fields(cls.Options)
         for bad in _bad_values(f, base)]


@pytest.mark.parametrize("task_name,cls,option,bad", CASES,
                         ids=[f"{c[0]}.{c[2]}={c[3]!r}" for c in CASES])
def test_bad_value_is_named(task_name: str, cls: type, option: str, bad: object) -> None:
    with pytest.raises(UserError) as err:
        cls.Options.parse(task_name, {option: bad})
    msg = str(err.value)
    assert task_name in msg and f"'{option}'" in msg, msg
    assert ("must be" in msg or "unknown" in msg), msg  # what is accepted follows
    if not isinstance(bad, list) or bad:
        assert repr(bad) in msg or str(bad) in msg, msg


def test_messages_say_what_is_accepted() -> None:
    from tasks.t2m import T2MTask

    p = T2MTask.Options.parse
    with pytest.raises(UserError, match=r"t2m: option 'replications' must be an integer >= 1, got 0"):
        p("t2m", {"replications": 0})
    with pytest.raises(UserError, match=r"option 'regenerate' must be true/false \(1, true, yes"):
        p("t2m", {"regenerate": "maybe"})
    with pytest.raises(UserError, match=r"option 'protocol' must be one of bench, guo, got 'gou' — did you mean 'guo'"):
        p("t2m", {"protocol": "gou"})
    with pytest.raises(UserError, match=r"option 'max_failure_rate' must be a number in \[0, 1\], got 2.0"):
        p("t2m", {"max_failure_rate": "2"})
    with pytest.raises(UserError, match="task 't2m' has no option 'regenerat' — did you mean 'regenerate'"):
        p("t2m", {"regenerat": "true"})
    with pytest.raises(UserError, match=r"mm_pairs \(5\) must be < mm_generations \(5\)"):
        p("t2m", {"multimodality": "yes", "mm_pairs": "5", "mm_generations": "5"})


def test_command_line_strings_and_yaml_values_read_the_same() -> None:
    from tasks.forgetting import Forgetting
    from tasks.reconstruction import ReconstructionTask
    from tasks.t2m import T2MTask

    p = T2MTask.Options.parse
    assert p("t2m", {"replications": "3", "regenerate": "true", "max_failure_rate": "0.1",
                     "protocol": " GUO "}) == p("t2m", {"replications": 3, "regenerate": True,
                                                         "max_failure_rate": 0.1, "protocol": "guo"})
    assert p("t2m", {"replications": 3.0}).replications == 3
    assert p("t2m", {}).replications is None  # the preset decides
    f = Forgetting.Options.parse
    assert f("forgetting", {"suites": "hmvlm_retention, hmvlm_news_ppl"}).suites == \
        f("forgetting", {"suites": ["hmvlm_retention", "hmvlm_news_ppl"]}).suites
    assert f("forgetting", {"limit": "none"}).limit is None and f("forgetting", {"limit": "4"}).limit == 4
    r = ReconstructionTask.Options.parse
    assert r("reconstruction", {"fid": "off", "max_crop": "0"}) == r("reconstruction", {"fid": False, "max_crop": 0})


_OPTION_NAMES = sorted({f.name for _, cls in TASKS for f in dataclasses.fields(cls.Options)} | {"regenerat"})
_VALUES = st.one_of(st.text(max_size=12), st.integers(-5, 500), st.floats(allow_nan=True), st.booleans(),
                    st.none(), st.lists(st.text(max_size=8), max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(task=st.sampled_from(TASKS), raw=st.dictionaries(st.sampled_from(_OPTION_NAMES), _VALUES, max_size=4))
def test_any_input_parses_or_is_one_user_error(task: tuple[str, type], raw: dict) -> None:
    """Whatever the command line or an experiment file holds: typed options or one UserError
    naming the task, never another exception."""
    name, cls = task
    try:
        out = cls.Options.parse(name, raw)
    except UserError as exc:
        assert name in str(exc)
        return
    assert isinstance(out, cls.Options)
    for f in dataclasses.fields(out):  # what was given is what is read, typed
        if f.name not in raw:
            assert getattr(out, f.name) == f.default


def test_runner_checks_typed_options_before_any_work(tmp_path) -> None:
    from typer.testing import CliRunner

    from hmvlm_bench.cli.main import app

    res = CliRunner().invoke(app, ["run", "--preset", "tiny", "--tasks", "m2t", "--task-option", "m2t.bertscore=maybe",
                                   "-o", str(tmp_path / "o")])
    assert res.exit_code != 0 and "m2t: option 'bertscore' must be true/false" in str(res.exception) + res.output
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.json"))
