"""Layers between the backbone feature and the CAM head."""
from __future__ import annotations

import torch
from torch import nn

from wsss.registry import NECKS


@NECKS.register_module()
class ConvNeck(nn.Module):
    """``num_convs × (conv3×3 (dilation) + ReLU)`` between the backbone and the CAM head (all its branches).

    Widens the receptive field of shallow (truncated) backbones with layers that train from scratch; keys
    ``neck.convs.{2i}.weight/bias``.
    """

    def __init__(self, in_channels: int, num_convs: int = 2, channels: int = 256, dilation: int = 1):
        super().__init__()
        if num_convs < 1:
            raise ValueError(f'num_convs must be >= 1, got {num_convs}')
        layers: list[nn.Module] = []
        for i in range(num_convs):
            layers += [nn.Conv2d(in_channels if i == 0 else channels, channels, 3, padding=dilation,
                                 dilation=dilation), nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*layers)
        self.out_channels = channels
        for m in self.convs:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convs(x)
