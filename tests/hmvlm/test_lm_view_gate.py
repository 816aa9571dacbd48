"""LMView records where the gate sends the prompts it scores (forgetting's gate analysis)."""
from __future__ import annotations

from contextlib import nullcontext

import torch

from reference_model.hmvlm.model import LMView


class _Net:
    def __init__(self, alphas):
        self.alphas = list(alphas)

    def gate_weights(self, prompts):
        a = self.alphas.pop(0)
        return None if a is None else torch.tensor(a, dtype=torch.float32)

    def routed(self, alpha):
        return nullcontext()


def test_mean_gate_averages_every_routed_row() -> None:
    view = LMView(hf_model=None, tokenizer=None, network=_Net([[[0.9, 0.1], [0.5, 0.5]], [[0.1, 0.9]]]))
    assert view.mean_gate() is None  # nothing routed yet
    with view.route(["a", "b"]):
        pass
    with view.route(["c"]):
        pass
    # rows weigh equally: (0.9 + 0.5 + 0.1) / 3, (0.1 + 0.5 + 0.9) / 3
    assert view.mean_gate() == [0.5, 0.5]
    assert view.gate_rows == 3


def test_models_without_a_gate_report_none() -> None:
    view = LMView(hf_model=None, tokenizer=None, network=_Net([None]))
    with view.route(["a"]):
        pass
    assert view.mean_gate() is None

