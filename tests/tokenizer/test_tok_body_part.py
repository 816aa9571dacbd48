from __future__ import annotations

import numpy as np
import pytest
import torch

from hmvlm_bench.errors import UserError
from hmvlm_bench.motion.skeleton import BODY_PARTS, FEATURE_DIM, N_PARTS, PART_NAMES, part_of_joint
from reference_model.tokenizer.body_part import BodyPartTokenizer, PoseTokenizer, part_attention_mask
from reference_model.tokenizer.config import TokenizerConfig
from reference_model.tokenizer.per_joint import JOINT_INDEX, JOINT_MASK


def _model(variant: str = "body-part") -> BodyPartTokenizer | PoseTokenizer:
    torch.manual_seed(0)
    cls = BodyPartTokenizer if variant == "body-part" else PoseTokenizer
    return cls(TokenizerConfig.for_preset("tiny", variant, spatial_layers=2)).eval()


def test_attention_mask_is_block_diagonal_by_part() -> None:
    m = part_attention_mask()
    part = np.concatenate([np.arange(N_PARTS), part_of_joint()])
    assert m.shape == (27, 27)
    for p, name in enumerate(PART_NAMES):
        sees = {j - N_PARTS for j in torch.nonzero(m[p]).flatten().tolist() if j >= N_PARTS}
        assert sees == set(BODY_PARTS[name])
    assert torch.equal(m, torch.as_tensor(part[:, None] == part[None, :]))


def _left_arm_feature_indices() -> list[int]:
    rows = JOINT_INDEX[list(BODY_PARTS["left_arm"])]
    return rows[JOINT_MASK[list(BODY_PARTS["left_arm"])]].tolist()


@pytest.mark.parametrize("variant", ["body-part", "pose"])
def test_perturbing_left_arm_changes_no_other_part(variant: str) -> None:
    model = _model(variant)
    x = torch.randn(2, 16, FEATURE_DIM)
    y = x.clone()
    y[..., _left_arm_feature_indices()] += torch.randn(2, 16, len(_left_arm_feature_indices())) * 3
    la = PART_NAMES.index("left_arm")
    part = torch.as_tensor(np.concatenate([np.arange(N_PARTS), part_of_joint()]))
    with torch.no_grad():
        from reference_model.tokenizer.per_joint import gather_joints
        tx = model.spatial(gather_joints(x).reshape(32, 22, -1), return_tokens=True)
        ty = model.spatial(gather_joints(y).reshape(32, 22, -1), return_tokens=True)
        # every token (query or joint) outside the left arm is bit-identical
        assert torch.equal(tx[:, part != la], ty[:, part != la])
        assert not torch.allclose(tx[:, la], ty[:, la])
        zx, zy = model.encode_latents(x), model.encode_latents(y)
        others = [p for p in range(N_PARTS) if p != la]
        assert torch.equal(zx[:, :, others], zy[:, :, others])
        assert not torch.allclose(zx[:, :, la], zy[:, :, la])
        cx, cy = model.encode(x), model.encode(y)
        assert torch.equal(cx[..., others], cy[..., others])


@pytest.mark.parametrize("t,steps", [(30, 7), (31, 7), (32, 8), (4, 1)])
def test_lengths_not_divisible_by_four_are_cropped(t: int, steps: int) -> None:
    model = _model()
    codes = model.encode(torch.randn(3, t, FEATURE_DIM))
    assert codes.shape == (3, steps, 5) and codes.dtype == torch.int64
    assert model.decode(codes).shape == (3, 4 * steps, FEATURE_DIM)


def test_too_short_and_bad_codes_raise_user_error() -> None:
    model = _model()
    with pytest.raises(UserError):
        model.encode(torch.randn(1, 3, FEATURE_DIM))
    with pytest.raises(UserError):
        model.decode(torch.full((1, 2, 5), model.codebook_size))
    with pytest.raises(UserError):
        model.decode(torch.zeros(1, 2, 1, dtype=torch.long))


def test_lengths_mask_frames_beyond_length() -> None:
    model = _model()
    x = torch.randn(2, 32, FEATURE_DIM)
    z = x.clone()
    z[0, 20:] = 0
    z[1, 28:] = 0
    assert torch.equal(model.encode(x, [20, 28]), model.encode(z))
    out = model.decode(model.encode(x, [20, 28]), lengths=[20, 28])
    assert torch.all(out[0, 20:] == 0) and torch.all(out[1, 28:] == 0)


def test_pose_tokenizer_is_per_frame() -> None:
    model = _model("pose")
    frames = torch.randn(6, FEATURE_DIM)
    codes = model.encode_pose(frames)
    assert codes.shape == (6, 5)
    assert model.decode_pose(codes).shape == (6, FEATURE_DIM)
    assert model.encode(torch.randn(2, 7, FEATURE_DIM)).shape == (2, 7, 5)


def test_pose_joints_from_codes() -> None:
    model = _model("pose")
    codes = model.encode_pose(torch.randn(4, FEATURE_DIM))
    mean, std = torch.zeros(FEATURE_DIM), torch.ones(FEATURE_DIM)
    joints = model.decode_pose_joints(codes, mean, std)
    frames = model.decode_pose(codes)
    assert joints.shape == (4, 22, 3)
    # single frame: root = (0, height, 0), other joints = root xz + ric
    assert torch.allclose(joints[:, 0], torch.stack([torch.zeros(4), frames[:, 3], torch.zeros(4)], -1))
    assert torch.allclose(joints[:, 1:, 1], frames[:, 4:67].reshape(4, 21, 3)[..., 1])
