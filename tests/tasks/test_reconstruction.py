"""reconstruction task: identity round trip, per-part isolation, codebook statistics."""
from __future__ import annotations

import json

import numpy as np
import pytest

from hmvlm_bench.contracts import Prediction
from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import PART_NAMES
from tasks.common import ModelOutputError
from tasks.reconstruction import ReconstructionBVHTask, ReconstructionTask, codebook_stats, part_feature_dims
from tests.tasks.conftest import FakeModel, make_ctx, view


def identity(r):
    return r.features


def test_identity_is_exact(ctx):
    res = ReconstructionTask().evaluate(view(FakeModel(recon=identity)), ctx)
    assert res.metrics["mse"].value == 0.0 and res.metrics["mpjpe"].value == 0.0
    for p in PART_NAMES:
        assert res.metrics[f"mse_{p}"].value == 0.0
    assert res.metrics["fid"].value == pytest.approx(0.0, abs=1e-6)
    assert "codebook_usage" not in res.metrics  # no codes reported
    json.dumps(res.samples)


def test_part_dims_partition_the_features():
    dims = part_feature_dims()
    allv = np.sort(np.concatenate(list(dims.values())))
    np.testing.assert_array_equal(allv, np.arange(263))


def test_error_in_one_part_stays_in_that_part(ctx):
    dims = part_feature_dims()["left_arm"]

    def bump(r):
        x = np.array(r.features, dtype=np.float64)
        x[:, dims] += 1.0
        return x

    res = ReconstructionTask({"fid": False}).evaluate(view(FakeModel(recon=bump)), ctx)
    assert res.metrics["mse_left_arm"].value == pytest.approx(1.0)
    assert res.metrics["mse"].value == pytest.approx(len(dims) / 263)
    for p in PART_NAMES:
        if p != "left_arm":
            assert res.metrics[f"mse_{p}"].value == 0.0
            assert res.metrics[f"mpjpe_{p}"].value == pytest.approx(0.0, abs=1e-9)
    assert res.metrics["mpjpe_left_arm"].value > 0
    # the arm's three joints out of 22 carry all the error
    assert res.metrics["mpjpe"].value == pytest.approx(res.metrics["mpjpe_left_arm"].value * 3 / 22)
    assert "fid" not in res.metrics and res.extra["fid"] == "disabled"


def test_codebook_stats_hand_computed():
    codes = [np.array([[0, 1], [0, 1]]), np.array([[1, 1], [1, 1]])]
    st = codebook_stats(codes, 4)
    assert st[0]["used"] == 2 and st[0]["usage"] == 0.5 and st[0]["perplexity"] == pytest.approx(2.0)
    assert st[1]["used"] == 1 and st[1]["usage"] == 0.25 and st[1]["perplexity"] == pytest.approx(1.0)
    with pytest.raises(ModelOutputError, match="out of range"):
        codebook_stats([np.array([[5]])], 4)


def test_codes_and_cropping(ctx):
    def tok(r):
        n = (len(r.features) // 4) * 4
        codes = np.tile(np.arange(n // 4)[:, None] % 3, (1, 5))
        return Prediction(r.features[:n], {"codes": codes, "codebook_size": 8})

    res = ReconstructionTask({"fid": False}).evaluate(view(FakeModel(recon=tok)), ctx)
    assert res.metrics["mse"].value == 0.0
    assert res.metrics["codebook_usage"].value == pytest.approx(3 / 8)
    assert res.metrics["codebook_perplexity"].value == pytest.approx(3.0, rel=0.05)
    assert set(res.extra["codebooks"]) == set(PART_NAMES)
    assert res.extra["cropped_frames"] == sum(s["length"] % 4 for s in res.samples)


def test_bad_reconstructions(ctx):
    with pytest.raises(ModelOutputError, match="expected \\(T, 263\\)"):
        ReconstructionTask().evaluate(view(FakeModel(recon=lambda r: r.features[:, :200])), ctx)
    with pytest.raises(ModelOutputError, match="too short"):
        ReconstructionTask().evaluate(view(FakeModel(recon=lambda r: r.features[:10])), ctx)
    with pytest.raises(ModelOutputError, match="non-finite"):
        ReconstructionTask().evaluate(view(FakeModel(recon=lambda r: r.features * np.nan)), ctx)


def test_bvh_variant_needs_path_and_reads_uncaptioned(synth_root, tmp_path, ctx):
    task = ReconstructionBVHTask()
    assert task.preflight(ctx) == ["--data bvh=DIR"]
    with pytest.raises(UserError, match="--data bvh=DIR"):
        task.evaluate(view(FakeModel(recon=identity)), ctx)
    import shutil

    root = tmp_path / "bvh"
    shutil.copytree(synth_root, root)
    shutil.rmtree(root / "texts")  # imported BVH: no captions
    c2 = make_ctx(synth_root, tmp_path, evaluator=None, extra_paths={"bvh": root})
    res = task.evaluate(view(FakeModel(recon=identity)), c2)
    assert res.metrics["mse"].value == 0.0 and res.dataset["name"] == "bvh"
    assert res.extra["fid"] == "disabled" and res.evaluator is None
    assert task.task_hash(c2)
