from __future__ import annotations

import pytest

from hmvlm_bench.errors import UserError
from hmvlm_bench.registry import Registry


class Base:
    pass


class Impl(Base):
    pass


def test_lazy_entry_is_imported_on_first_get():
    reg: Registry[type] = Registry("task", base=Base)
    reg.register("impl", f"{__name__}:Impl")
    assert reg._entries["impl"] == f"{__name__}:Impl"  # not imported yet
    assert reg.get("impl") is Impl
    assert reg._entries["impl"] is Impl


def test_unknown_name_suggests_near_match():
    reg: Registry[type] = Registry("task")
    reg.register("t2m", Impl)
    reg.register("m2t", Impl)
    with pytest.raises(UserError, match=r"unknown task 'x2m' — did you mean '(t2m|m2t)'\?"):
        reg.get("x2m")
    with pytest.raises(UserError) as info:
        reg.get("completely-different")
    assert "did you mean" not in str(info.value)
    assert "known: m2t, t2m" in str(info.value)


def test_aliases_resolve_and_duplicates_are_refused():
    reg: Registry[type] = Registry("model")
    reg.register("hmvlm", Impl, aliases=("hmvlm-ref",))
    assert reg.get("hmvlm-ref") is Impl
    assert reg.canonical("hmvlm-ref") == "hmvlm"
    with pytest.raises(ValueError, match="already registered"):
        reg.register("hmvlm", Base)  # lm-eval silently overrides; we refuse
    with pytest.raises(ValueError, match="alias"):
        reg.register("other", Base, aliases=("hmvlm",))


def test_base_class_is_checked_and_bad_targets_explained():
    reg: Registry[type] = Registry("task", base=Impl)
    reg.register("wrong", f"{__name__}:Base")
    with pytest.raises(TypeError, match="is not a Impl"):
        reg.get("wrong")
    reg.register("missing", "no_such_module_xyz:Thing")
    with pytest.raises(UserError, match="cannot load task 'missing'"):
        reg.get("missing")
    with pytest.raises(ValueError, match="module:attr"):
        reg.register("bad", "not-a-path")


def test_groups_expand_and_cannot_be_instantiated():
    reg: Registry[type] = Registry("task")
    reg.register("a", Impl)
    reg.register("b", Impl)
    reg.register_group("ab", ["a", "b"])
    assert reg.is_group("ab") and not reg.is_group("a")
    with pytest.raises(UserError, match="is a group"):
        reg.get("ab")
