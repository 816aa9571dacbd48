from __future__ import annotations

import pytest
import torch

from reference_model.tokenizer.quantizer import QuantizeEMAReset


def _set(q: QuantizeEMAReset, codebook: list[float], count: list[float]) -> None:
    cb = torch.tensor(codebook)[:, None]
    q.codebook.copy_(cb)
    q.code_sum.copy_(cb * torch.tensor(count)[:, None])
    q.code_count.copy_(torch.tensor(count))
    q.initialized.fill_(True)


def test_ema_update_and_dead_code_reset_by_hand() -> None:
    q = QuantizeEMAReset(codebook_size=2, dim=1, mu=0.5).train()
    _set(q, [0.0, 10.0], [1.0, 1.0])
    x = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    out, codes, commit, ppl = q(x)
    assert codes.tolist() == [0, 0, 0]
    # quantised with the codebook *before* the update: all 0
    assert torch.equal(out.detach(), torch.zeros(3, 1))
    assert commit.item() == pytest.approx((1 + 4 + 9) / 3)
    assert ppl.item() == pytest.approx(1.0, abs=1e-5)
    # code 0: sum 0.5*0 + 0.5*6 = 3, count 0.5*1 + 0.5*3 = 2 -> centre 1.5
    assert q.code_sum[0].item() == pytest.approx(3.0)
    assert q.code_count.tolist() == pytest.approx([2.0, 0.5])
    assert q.codebook[0].item() == pytest.approx(1.5)
    # code 1: count 0.5 < 1 -> dead -> replaced by one of this batch's vectors
    assert q.codebook[1].item() in (1.0, 2.0, 3.0)
    # straight-through: d out / d x = identity
    out.sum().backward()
    assert torch.equal(x.grad, torch.ones(3, 1))


def test_live_codes_follow_ema_and_eval_freezes() -> None:
    q = QuantizeEMAReset(2, 1, mu=0.9).train()
    _set(q, [0.0, 10.0], [5.0, 5.0])
    q(torch.tensor([[1.0], [9.0]]))
    # code 0: (0.9*0 + 0.1*1) / (0.9*5 + 0.1*1) ; code 1: (0.9*50 + 0.1*9) / 4.6
    assert q.codebook[:, 0].tolist() == pytest.approx([0.1 / 4.6, 45.9 / 4.6])
    before = q.codebook.clone()
    q.eval()
    q(torch.tensor([[100.0], [-100.0]]))
    assert torch.equal(q.codebook, before)


def test_init_from_first_batch_tiles_with_small_noise() -> None:
    torch.manual_seed(0)
    q = QuantizeEMAReset(8, 4).train()
    x = torch.randn(3, 4)
    q(x)
    assert bool(q.initialized)
    # every code is within tiny noise (std 0.01/sqrt(4)) of one batch vector
    d = torch.cdist(q.codebook, x).min(dim=1).values
    assert (d < 0.1).all()


def test_quantize_is_nearest_code() -> None:
    q = QuantizeEMAReset(3, 2).eval()
    _set_cb = torch.tensor([[0.0, 0.0], [1.0, 1.0], [-2.0, 0.0]])
    q.codebook.copy_(_set_cb)
    x = torch.tensor([[0.1, -0.1], [0.9, 1.2], [-1.5, 0.2], [0.6, 0.6]])
    assert q.quantize(x).tolist() == [0, 1, 2, 1]
