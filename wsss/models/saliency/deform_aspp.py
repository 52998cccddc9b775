"""Deformable ASPP of BiRefNet (Zheng et al., CAAI AIR 2024; official ``models/modules/{deform_conv,aspp}.py``).

- :class:`DeformableConv2d`: a modulated deformable convolution (DCNv2, Zhu et al., CVPR 2019) run by
  ``torchvision.ops.deform_conv2d``. Sub-modules ``offset_conv`` (2k² offsets, bias), ``modulator_conv`` (k² mask
  logits, bias) and ``regular_conv`` (the weight that is applied, no bias by default). As the official code, the
  offset and modulator convs start at zero (so at initialisation the layer is ``regular_conv`` with a mask of
  ``2 * sigmoid(0) = 1``) and ``regular_conv`` keeps PyTorch's default initialisation.
- :class:`ASPPDeformable`: ``aspp1`` (1x1) and ``aspp_deforms.{0,1,2}`` (kernels 1, 3, 7), each deformable conv
  -> BN -> ReLU with 256 outputs; ``global_avg_pool`` = [pool, 1x1 conv, BN, ReLU] broadcast back with
  bilinear/align_corners=True; concatenation -> ``conv1`` (1x1, no bias) -> ``bn1`` -> ReLU -> Dropout(0.5).

Key names are the official ones. BatchNorm is always built (the official code builds it only for
``batch_size > 1``, and every released checkpoint has it).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import deform_conv2d

from wsss.models.layers import _pair


class DeformableConv2d(nn.Module):
    """DCNv2 layer (official ``DeformableConv2d``): offsets and mask predicted from the input by convs with the
    same kernel, stride and padding as the main conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding=1,
                 bias: bool = False):
        super().__init__()
        k = _pair(kernel_size)
        self.stride, self.padding = _pair(stride), _pair(padding)
        n = k[0] * k[1]
        self.offset_conv = nn.Conv2d(in_channels, 2 * n, k, self.stride, self.padding, bias=True)
        self.modulator_conv = nn.Conv2d(in_channels, n, k, self.stride, self.padding, bias=True)
        self.regular_conv = nn.Conv2d(in_channels, out_channels, k, self.stride, self.padding, bias=bias)
        for m in (self.offset_conv, self.modulator_conv):  # official init: zero offsets, mask 2*sigmoid(0) = 1
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        offset = self.offset_conv(x)
        mask = 2.0 * torch.sigmoid(self.modulator_conv(x))  # official modulator: 2 * sigmoid, in (0, 2)
        # mixed precision: torchvision's CPU kernel has no float16/bfloat16 and its CUDA autocast rule runs the op
        # in float32 anyway, so half inputs are computed in float32 and the result cast back (float64 stays)
        ft = torch.float64 if x.dtype == torch.float64 else torch.float32
        w, b = self.regular_conv.weight, self.regular_conv.bias
        out = deform_conv2d(x.to(ft), offset.to(ft), w.to(ft), None if b is None else b.to(ft), stride=self.stride,
                            padding=self.padding, mask=mask.to(ft))
        return out.to(x.dtype)


class DeformableBranch(nn.Module):
    """One ASPP branch (official ``_ASPPModuleDeformable``): ``atrous_conv`` (deformable, "same" padding) -> ``bn``
    -> ReLU."""

    def __init__(self, in_channels: int, planes: int, kernel_size: int):
        super().__init__()
        self.atrous_conv = DeformableConv2d(in_channels, planes, kernel_size, 1, kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.atrous_conv(x)))


class ASPPDeformable(nn.Module):
    """Deformable ASPP (module docstring). ``out_channels`` defaults to ``in_channels``."""

    def __init__(self, in_channels: int, out_channels: int | None = None,
                 kernel_sizes: Sequence[int] = (1, 3, 7), planes: int = 256):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.aspp1 = DeformableBranch(in_channels, planes, 1)
        self.aspp_deforms = nn.ModuleList([DeformableBranch(in_channels, planes, k) for k in kernel_sizes])
        self.global_avg_pool = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)),
                                             nn.Conv2d(in_channels, planes, 1, bias=False),
                                             nn.BatchNorm2d(planes), nn.ReLU(inplace=True))
        self.conv1 = nn.Conv2d(planes * (2 + len(kernel_sizes)), out_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.aspp1(x)
        pooled = F.interpolate(self.global_avg_pool(x), size=x1.shape[-2:], mode='bilinear', align_corners=True)
        x = torch.cat([x1, *(branch(x) for branch in self.aspp_deforms), pooled], dim=1)
        return self.dropout(self.relu(self.bn1(self.conv1(x))))
