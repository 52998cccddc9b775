"""Layers shared by several model families."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


class ConvBNAct(nn.Module):
    """Bias-free conv with "same" padding (odd kernels, dilation included) + optional BN + optional ReLU.

    Sub-modules are named ``conv``, ``bn``, ``relu`` (InSPyReNet's official ``Conv2d`` wrapper, so its
    checkpoints load); ``bn=False`` leaves no ``bn`` parameters. ``init='kaiming_normal'`` (InSPyReNet) draws
    the conv weight with Kaiming-normal; ``init=None`` keeps PyTorch's default (for heads that initialise all
    their layers afterwards, e.g. the segmenters' ``init_conv_bn``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, dilation=1,
                 bn: bool = True, relu: bool = False, init: Optional[str] = 'kaiming_normal'):
        super().__init__()
        k, d = _pair(kernel_size), _pair(dilation)
        pad = tuple(di * (ki - 1) // 2 for ki, di in zip(k, d))
        self.conv = nn.Conv2d(in_channels, out_channels, k, 1, pad, d, bias=False)
        if init == 'kaiming_normal':
            nn.init.kaiming_normal_(self.conv.weight)
        elif init is not None:
            raise ValueError(f"init must be 'kaiming_normal' or None, got {init!r}")
        self.bn = nn.BatchNorm2d(out_channels) if bn else None
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu is not None:
            x = self.relu(x)
        return x
