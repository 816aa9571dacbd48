"""Reports never put two evaluation protocols in one column."""
from __future__ import annotations

from pathlib import Path

from hmvlm_bench.reporting.board import build_board, result_protocol
from hmvlm_bench.results import write_result
from tests.reporting.reporting_fixtures import make_result

HML = {"name": "humanml3d", "hash": "abcdabcdabcdabcd"}
GUO = {"name": "guo-t2m", "fingerprint": "f" * 64}


def test_protocols_get_separate_columns(tmp_path: Path) -> None:
    m = {"r_precision_top3": {"value": 0.5, "ci": 0.01, "higher_is_better": True}}
    write_result(tmp_path, make_result("lora", "t2m", m, main="r_precision_top3"))  # no protocol: bench
    write_result(tmp_path, make_result("hmvlm", "t2m", m, main="r_precision_top3", dataset=HML, evaluator=GUO,
                                       extra={"eval_protocol": "guo"}))
    write_result(tmp_path, make_result("random", "t2m", m, main="r_precision_top3", dataset=HML, evaluator=GUO,
                                       config={"task": {"protocol": "guo"}}))
    board = build_board(tmp_path)
    cols = {tb.name: tb for tb in board.tasks}
    assert set(cols) == {"t2m@bench", "t2m@guo"}
    assert cols["t2m@bench"].models == ["lora"] and sorted(cols["t2m@guo"].models) == ["hmvlm", "random"]
    assert cols["t2m@guo"].display.display.endswith("[guo protocol]")
    assert [result_protocol(r) for r in sorted(board.results, key=lambda r: r.model)] == ["guo", "bench", "guo"]


def test_one_protocol_keeps_the_task_name_and_only_guo_ranks_with_published(tmp_path: Path) -> None:
    m = {"r_precision_top3": {"value": 0.5, "ci": 0.01, "higher_is_better": True}}
    for model, extra in (("hmvlm", {"eval_protocol": "bench"}), ("lora", {})):
        write_result(tmp_path, make_result(model, "t2m", m, main="r_precision_top3", dataset=HML, evaluator=GUO,
                                           extra=extra))
    tb = build_board(tmp_path).task("t2m")
    assert sorted(tb.models) == ["hmvlm", "lora"]
    assert not tb.published_comparable  # official data and evaluator, but not the published protocol
