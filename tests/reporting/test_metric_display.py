"""A metric's label, direction and format are stated once, by its task (`MetricSpec`);
`leaderboard.yaml` only overrides."""
from __future__ import annotations

from pathlib import Path

from hmvlm_bench.plugins import load_registries
from hmvlm_bench.reporting.spec import _read_yaml, load_spec


def test_columns_come_from_the_tasks() -> None:
    spec = load_spec()
    t2m = load_registries().tasks.get("t2m")
    shown = spec.tasks["t2m"]
    assert shown.display == t2m.display_name == "Text-to-motion"
    assert [(m.name, m.display, m.format) for m in shown.metrics] == \
        [(m.name, m.label, m.format) for m in t2m.metrics if m.column]
    assert next(m for m in shown.metrics if m.name == "diversity").better == "closer_to_real"
    # per-part reconstruction errors are no columns of their own (named after their parent)
    assert "mse_torso" not in {m.name for m in spec.tasks["reconstruction"].metrics}
    assert list(spec.tasks)[:5] == ["t2m", "t2m_first_token", "t2m_last_token", "t2m_compositional", "m2t"]


def test_shipped_yaml_restates_nothing() -> None:
    tasks = load_registries().tasks
    for tname, entry in (_read_yaml(None, "leaderboard.yaml").get("tasks") or {}).items():
        declared = {m.name: m for m in tasks.get(tname).metrics}
        for m in entry.get("metrics") or []:
            own = declared.get(m["name"])
            assert own is None or m.get("display", own.label) != own.label or m.get("format", own.format) != own.format


def test_yaml_overrides_one_field(tmp_path: Path) -> None:
    path = tmp_path / "lb.yaml"
    path.write_text("tasks:\n  t2m:\n    display: T2M (ours)\n    metrics:\n"
                    "      - {name: fid, format: '.2f'}\n      - {name: extra_metric, display: Extra, better: higher}\n")
    spec = load_spec(path)
    t2m = spec.tasks["t2m"]
    fid = next(m for m in t2m.metrics if m.name == "fid")
    assert t2m.display == "T2M (ours)" and t2m.main_metric == "r_precision_top3"
    assert (fid.display, fid.better, fid.format) == ("FID", "lower", ".2f")
    assert t2m.metrics[-1].name == "extra_metric" and t2m.metrics[-1].better == "higher"
    assert spec.tasks["m2t"].display == "Motion-to-text"  # untouched tasks keep their own
