"""Temporal 1-D conv encoder/decoder of the T2M-GPT VQ-VAE (shared by all tokenizers).

Architecture after Mael-zys/T2M-GPT `models/encdec.py` and `models/resnet.py`: conv3 + ReLU,
`down_t` stages of [conv(k=4, s=2, p=1) + dilated resnet1d], conv3 to the code width; the
decoder mirrors it with nearest x2 upsampling + conv3. ReLU, no norm (T2M-GPT defaults).
"""
from __future__ import annotations

from torch import nn
import torch


class ResBlock1D(nn.Module):
    """ReLU -> dilated conv3 -> ReLU -> conv1, plus the skip connection."""

    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(), nn.Conv1d(width, width, 3, 1, dilation, dilation),
            nn.ReLU(), nn.Conv1d(width, width, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class Resnet1D(nn.Sequential):
    """`depth` residual blocks with dilation growth**i; reversed order (T2M-GPT default)."""

    def __init__(self, width: int, depth: int, growth: int) -> None:
        dilations = [growth ** i for i in range(depth)][::-1]
        super().__init__(*(ResBlock1D(width, d) for d in dilations))


class ConvEncoder(nn.Sequential):
    """(N, in_dim, T) -> (N, out_dim, T / 2**down_t)."""

    def __init__(self, in_dim: int, out_dim: int, width: int, down_t: int, depth: int, growth: int) -> None:
        layers: list[nn.Module] = [nn.Conv1d(in_dim, width, 3, 1, 1), nn.ReLU()]
        for _ in range(down_t):
            layers += [nn.Conv1d(width, width, 4, 2, 1), Resnet1D(width, depth, growth)]
        layers.append(nn.Conv1d(width, out_dim, 3, 1, 1))
        super().__init__(*layers)


class ConvDecoder(nn.Sequential):
    """(N, in_dim, T') -> (N, out_dim, T' * 2**down_t)."""

    def __init__(self, in_dim: int, out_dim: int, width: int, down_t: int, depth: int, growth: int) -> None:
        layers: list[nn.Module] = [nn.Conv1d(in_dim, width, 3, 1, 1), nn.ReLU()]
        for _ in range(down_t):
            layers += [Resnet1D(width, depth, growth), nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv1d(width, width, 3, 1, 1)]
        layers += [nn.Conv1d(width, width, 3, 1, 1), nn.ReLU(), nn.Conv1d(width, out_dim, 3, 1, 1)]
        super().__init__(*layers)
