"""Markdown leaderboard: bold best, closer-to-real, missing pairs, published blocks kept apart."""
from __future__ import annotations

from pathlib import Path

from reporting_fixtures import make_result
from hmvlm_bench.reporting.board import build_board
from hmvlm_bench.reporting.leaderboard import write_markdown_leaderboard
from hmvlm_bench.results import write_result


def _section(md: str, heading: str) -> str:
    start = md.index(heading)
    end = md.find("\n## ", start + 1)
    return md[start:end if end != -1 else None]


def _row(table: str, model: str) -> list[str]:
    for line in table.splitlines():
        if line.startswith(f"| {model} ") or line.startswith(f"| {model} (reference)"):
            return [c.strip() for c in line.strip("|").split("|")]
    raise AssertionError(f"no row for {model}")


def test_main_table_bold_best_and_missing(results_tree: Path, tmp_path: Path) -> None:
    md = write_markdown_leaderboard(results_tree, tmp_path / "out").read_text()
    main = md[:md.index("## Text-to-motion")]
    hmvlm, lora, gt = _row(main, "hmvlm"), _row(main, "lora"), _row(main, "ground-truth")
    # columns: model | t2m R@3 | reconstruction MSE | forgetting
    assert hmvlm[1].startswith("**0.780 ± ") and not lora[1].startswith("**")
    assert not gt[1].startswith("**")  # the reference row is never ranked (0.801 > 0.780)
    assert lora[2] == "—[^missing]" and gt[3] == "—[^missing]"
    assert "[^missing]: —" in md
    assert hmvlm[3].startswith("**3.0 ± ") and lora[3] == "25.0 ± 1.0"
    # reconstruction: one non-reference model is not a ranking
    assert not hmvlm[2].startswith("**")


def test_closer_to_real_diversity(results_tree: Path, tmp_path: Path) -> None:
    md = write_markdown_leaderboard(results_tree, tmp_path).read_text()
    t2m = _section(md, "## Text-to-motion")
    # GT diversity 9.489; hmvlm 9.462 is closer than lora 9.696 although lower
    assert _row(t2m, "hmvlm")[3].startswith("**9.462")
    assert not _row(t2m, "lora")[3].startswith("**")
    assert "Diversity →real" in t2m


def test_published_block_separate_when_not_official(results_tree: Path, tmp_path: Path) -> None:
    md = write_markdown_leaderboard(results_tree, tmp_path).read_text()
    t2m = _section(md, "## Text-to-motion")
    assert "(published)" not in t2m and "MoMask" not in t2m
    pub = md[md.index("## Published reference numbers"):md.index("## Provenance")]
    assert "### Published (HumanML3D test set, not comparable" in pub
    assert "| MoMask | 0.521 | 0.713 | 0.807 | 0.045 | 2.958 | — |" in pub
    assert "**" not in pub  # nothing bolded among published rows
    assert "Published pose" not in md  # no pose results, no pose block


def test_published_rows_ranked_only_on_official_data(tmp_path: Path) -> None:
    root = tmp_path / "r"
    official = {"dataset": {"name": "humanml3d", "hash": "h"},
                "evaluator": {"name": "guo-t2m", "fingerprint": "f"},
                "extra": {"eval_protocol": "guo"}}  # published rows follow Guo et al.'s protocol
    for model, r3 in (("ground-truth", 0.797), ("hmvlm", 0.780), ("lora", 0.700)):
        write_result(root, make_result(model, "t2m", {
            "r_precision_top3": {"value": r3, "ci": 0.003}}, main="r_precision_top3", **official))
    board = build_board(root)
    tb = board.task("t2m")
    assert tb.published_comparable
    assert tb.best_with_published["r_precision_top3"] == {"MoMask (published)"}  # 0.807 > 0.780
    assert tb.best["r_precision_top3"] == {"hmvlm"}
    md = write_markdown_leaderboard(root, tmp_path).read_text()
    t2m = _section(md, "## Text-to-motion")
    assert "| **0.807** |" in _row_text(t2m, "MoMask (published)")
    # ...but the main models x tasks table only ranks measured rows
    main = md[:md.index("## Text-to-motion")]
    assert "MoMask" not in main and _row(main, "hmvlm")[1].startswith("**0.780")


def _row_text(table: str, model: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(f"| {model}")) + " |"


def test_unknown_task_renders_from_its_own_metadata(tmp_path: Path) -> None:
    root = tmp_path / "r"
    for model, err, acc in (("a", 0.30, 0.9), ("b", 0.10, 0.5)):
        write_result(root, make_result(model, "my_new_task", {
            "err": {"value": err, "ci": 0.01, "higher_is_better": False},
            "acc": {"value": acc, "higher_is_better": True}}, main="err"))
    md = write_markdown_leaderboard(root, tmp_path).read_text()
    assert "| model | my_new_task err ↓ |" in md  # main metric from the file
    sec = _section(md, "## my_new_task")
    assert "| model | err ↓ | acc ↑ |" in sec
    assert _row(sec, "b")[1].startswith("**0.100") and _row(sec, "a")[2].startswith("**0.900")


def test_provenance_footer(results_tree: Path, tmp_path: Path) -> None:
    md = write_markdown_leaderboard(results_tree, tmp_path).read_text()
    prov = md[md.index("## Provenance"):]
    assert "synthetic (d4a7a5e7c0ff)" in prov and "hmvlm-contrastive (e1e1e1e1abcd)" in prov
    assert "| hmvlm | t2m | v1 |" in prov and "| 32 | 5 | tiny |" in prov
    assert "python 3.11, torch 2.13.0" in prov
    assert "`hmvlm-bench run --preset tiny`" in prov


def test_empty_results_dir(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "No result files yet." in write_markdown_leaderboard(tmp_path / "empty", tmp_path).read_text()


def test_display_spec_names_only_metrics_the_registered_tasks_emit() -> None:
    """leaderboard.yaml is a display layer: a metric name there that no task emits renders
    nothing and silently drops plots (the forgetting trade-off plot read `forgetting_rel`,
    which the task never wrote)."""
    from hmvlm_bench.plugins import load_registries
    from hmvlm_bench.reporting.spec import load_spec

    spec = load_spec()
    tasks = load_registries().tasks
    declared: dict[str, set[str]] = {}
    for name, shown in spec.tasks.items():
        cls = tasks.get(name)
        declared[name] = {m.name for m in cls.metrics}
        assert shown.main_metric == cls.main_metric, name
        unknown = [m.name for m in shown.metrics if m.name not in declared[name]]
        assert not unknown, f"{name}: {unknown} not among {sorted(declared[name])}"
    trade = spec.plots["forgetting_vs_quality"]
    for axis in ("x", "y"):
        assert trade[axis]["metric"] in declared[trade[axis]["task"]], axis
    assert set(spec.plots["body_part_metrics"]) <= declared[spec.plots["body_part_task"]]
