from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings, strategies as st

from hmvlm_bench.motion.skeleton import FEATURE_DIM, N_JOINTS
from reference_model.tokenizer.per_joint import (
    JOINT_INDEX, JOINT_MASK, JOINT_WIDTH, gather_joints, scatter_joints,
)


def test_layout_by_hand() -> None:
    assert JOINT_WIDTH == 13 and int(JOINT_MASK.sum()) == FEATURE_DIM
    # root: rot vel, lin vel x/z, height, its local velocity (193..195)
    assert JOINT_INDEX[0, :7].tolist() == [0, 1, 2, 3, 193, 194, 195]
    assert not JOINT_MASK[0, 7:].any()
    # joint 1: ric 4..6, rot6d 67..72, local vel 196..198 (joint 1's velocity)
    assert JOINT_INDEX[1, :12].tolist() == [4, 5, 6, *range(67, 73), 196, 197, 198]
    # joint 21: last ric / rot6d / vel entries
    assert JOINT_INDEX[21, :12].tolist() == [64, 65, 66, *range(187, 193), 256, 257, 258]
    # foot contacts: [259:263] = l_ankle(7), l_foot(10), r_ankle(8), r_foot(11)
    assert [JOINT_INDEX[j, 12] for j in (7, 10, 8, 11)] == [259, 260, 261, 262]
    assert JOINT_MASK[:, 12].sum() == 4


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_bijection(b: int, t: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, t, FEATURE_DIM, generator=g, dtype=torch.float64)
    pj = gather_joints(x)
    assert pj.shape == (b, t, N_JOINTS, JOINT_WIDTH)
    assert torch.equal(scatter_joints(pj), x)
    assert torch.all(pj[..., torch.as_tensor(~JOINT_MASK)] == 0)
    # the other direction: on masked slots gather(scatter(y)) == y
    y = torch.randn(b, t, N_JOINTS, JOINT_WIDTH, generator=g, dtype=torch.float64)
    back = gather_joints(scatter_joints(y))
    m = torch.as_tensor(JOINT_MASK)
    assert torch.equal(back[..., m], y[..., m])


def test_each_feature_once() -> None:
    x = torch.arange(FEATURE_DIM, dtype=torch.float32) + 1
    pj = gather_joints(x)
    vals = pj[pj != 0].sort().values
    assert torch.equal(vals, x)
    assert np.array_equal(np.sort(JOINT_INDEX[JOINT_MASK]), np.arange(FEATURE_DIM))
