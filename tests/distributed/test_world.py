"""World.shard/gather on a real 2-process gloo group, and the cross-process artifact lock."""
from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from hmvlm_bench.context import World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gather_worker(rank: int, size: int, port: int, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=size)
    try:
        world = World(rank=rank, size=size)
        items = [f"id{i}" for i in range(7)]  # 7 over 2 ranks: uneven shards
        shard = world.shard(items)
        answers = [(s, rank) for s in shard]
        full = world.gather(answers, len(items))
        world.barrier()
        Path(out, f"rank{rank}.txt").write_text(repr(full))
    finally:
        dist.destroy_process_group()


def test_shard_is_round_robin_and_covers_everything() -> None:
    items = list(range(11))
    shards = [World(rank=r, size=3).shard(items) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]
    assert sorted(x for s in shards for x in s) == items
    assert World().gather([1, 2], 2) == [1, 2]


def test_gather_restores_request_order_on_every_rank(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    mp.spawn(_gather_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    expected = [(f"id{i}", i % 2) for i in range(7)]  # who answered what: rank = index mod 2
    for r in range(2):
        assert (tmp_path / f"rank{r}.txt").read_text() == repr(expected)


def _build_worker(rank: int, root: str, log: str) -> None:
    from hmvlm_bench.artifacts import ArtifactStore

    def build(tmp: Path) -> None:
        with open(log, "a") as fh:
            fh.write(f"build {rank}\n")
        time.sleep(0.5)  # long enough for the other rank to hit the lock
        (tmp / "payload.txt").write_text("ok")

    path = ArtifactStore(Path(root)).get_or_build("demo", {"x": 1}, build)
    assert (path / "payload.txt").read_text() == "ok"


def test_artifact_built_once_when_ranks_race(tmp_path: Path) -> None:
    import multiprocessing

    log = tmp_path / "log.txt"
    ctx = multiprocessing.get_context("fork")  # two OS processes, as `accelerate launch` ranks
    procs = [ctx.Process(target=_build_worker, args=(r, str(tmp_path / "cache"), str(log))) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert len(log.read_text().splitlines()) == 1
    assert len(list((tmp_path / "cache" / "demo").iterdir())) == 2  # the artifact + its lock file


def test_single_thread_pins_and_model_threads_restores() -> None:
    import torch

    from hmvlm_bench.seeding import model_threads, single_thread

    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
        with model_threads():
            assert torch.get_num_threads() == before
            with single_thread():  # nested: still remembers the process's count
                assert torch.get_num_threads() == 1
                with model_threads():
                    assert torch.get_num_threads() == before
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with model_threads():  # outside any pin: a no-op
        assert torch.get_num_threads() == before


def test_init_world_alone_is_single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from hmvlm_bench.distributed import init_world

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    w = init_world()
    assert (w.rank, w.size, w.is_main) == (0, 1, True)


def test_waiting_for_a_build_names_the_process_holding_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging
    import os
    import threading

    from hmvlm_bench.artifacts import ArtifactStore

    store = ArtifactStore(tmp_path / "cache")
    started, release = threading.Event(), threading.Event()

    def slow(tmp: Path) -> None:
        started.set()
        release.wait(10)
        (tmp / "payload.txt").write_text("ok")

    builder = threading.Thread(target=store.get_or_build, args=("demo", {"x": 1}, slow))
    builder.start()
    assert started.wait(10)
    threading.Timer(0.3, release.set).start()
    with caplog.at_level(logging.WARNING, logger="hmvlm_bench"):
        path = store.get_or_build("demo", {"x": 1}, lambda tmp: pytest.fail("built twice"))
    builder.join(10)
    assert (path / "payload.txt").read_text() == "ok"
    assert f"waiting for process {os.getpid()}, which is building demo/" in caplog.text
