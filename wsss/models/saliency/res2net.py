"""Res2Net-50 v1b 26w-4s backbone as InSPyReNet builds it (Gao et al., TPAMI 2019; "v1b" = deep stem + avg-down).

Key names are those of the official ``res2net50_v1b_26w_4s`` (and InSPyReNet's ``backbone.*``):
``conv1.{0,1,3,4,6}`` (3x3 s2 3->32, BN, ReLU, 3x3 32->32, BN, ReLU, 3x3 32->64), ``bn1``,
``layer{1-4}.{i}.{conv1,bn1,convs.k,bns.k,conv3,bn3,downsample.1,downsample.2}``. timm's ``res2net50d`` has the
same key names (minus ``fc``), so its ImageNet weights load through ``pretrained`` too.

Why not timm's model: InSPyReNet's copy (``output_stride=32``) adds dilation on top of the strides: layer3
uses dilation 2 and layer4 dilations (4, 8, 16) for its three blocks (``dilation=[1,1,2,4]``, ``grid=[1,2,4]``),
and timm's ``res2net50d`` has no such option. Deviation from the Res2Net paper, kept for checkpoint parity.

``forward(x)`` returns ``[stem (64, /4), layer1 (256, /4), layer2 (512, /8), layer3 (1024, /16),
layer4 (2048, /32)]``. ``base_channels`` / ``layers`` / ``base_width`` shrink it for fast tests
(out_channels = [b, 4b, 8b, 16b, 32b]); the defaults build the official network.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn as nn

from wsss.models.pretrained import weights_source
from wsss.registry import BACKBONES


class Bottle2neck(nn.Module):
    """Res2Net bottleneck: 1x1 -> split into ``scale`` groups of ``width`` -> hierarchical 3x3 convs -> 1x1.

    The first block of a stage ('stage' type) does not add the previous group and average-pools the last group
    with the block's stride; other blocks add ``y_{i-1}`` to ``x_i`` before conv i and pass the last group.
    """
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: Optional[nn.Module] = None, base_width: int = 26, scale: int = 4,
                 first: bool = False):
        super().__init__()
        width = int(math.floor(planes * (base_width / 64.0)))
        self.width, self.scale, self.first = width, scale, first
        self.nums = 1 if scale == 1 else scale - 1
        self.conv1 = nn.Conv2d(inplanes, width * scale, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        if first:
            self.pool = nn.AvgPool2d(kernel_size=3, stride=stride, padding=1)
        self.convs = nn.ModuleList([nn.Conv2d(width, width, 3, stride, padding=dilation, dilation=dilation, bias=False)
                                    for _ in range(self.nums)])
        self.bns = nn.ModuleList([nn.BatchNorm2d(width) for _ in range(self.nums)])
        self.conv3 = nn.Conv2d(width * scale, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        spx = torch.split(out, self.width, 1)
        ys = []
        sp = None
        for i in range(self.nums):
            sp = spx[i] if (i == 0 or self.first) else sp + spx[i]
            sp = self.relu(self.bns[i](self.convs[i](sp)))
            ys.append(sp)
        if self.scale != 1:
            ys.append(self.pool(spx[self.nums]) if self.first else spx[self.nums])
        out = self.bn3(self.conv3(torch.cat(ys, 1)))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


@BACKBONES.register_module()
class Res2NetV1b(nn.Module):
    """Res2Net v1b backbone (see module docstring).

    Args:
        layers: blocks per stage ((3, 4, 6, 3) = Res2Net-50).
        base_width, scale: 26w-4s.
        base_channels: stem output / first-stage planes (64 official).
        dilations, layer4_grid: per-stage dilation and the multi-grid of layer4 (official InSPyReNet values).
        frozen_stages: -1 none; 0 freezes the stem; k freezes the stem and layer1..k.
        norm_eval: keep BatchNorm in eval mode (frozen statistics) while training.
        pretrained: local path of ImageNet weights (``res2net50_v1b_26w_4s-3cf99910.pth`` or timm
            ``res2net50d``): keys as above, ``fc.*`` dropped, loaded strictly otherwise. Never downloads.
            ``'none'``: random init on purpose (None: random init too, refused by the training stages).
    """

    def __init__(self, layers: Sequence[int] = (3, 4, 6, 3), base_width: int = 26, scale: int = 4,
                 base_channels: int = 64, dilations: Sequence[int] = (1, 1, 2, 4),
                 layer4_grid: Sequence[int] = (1, 2, 4), strides: Sequence[int] = (1, 2, 2, 2),
                 frozen_stages: int = -1, norm_eval: bool = False, pretrained: Optional[str] = None):
        super().__init__()
        b = base_channels
        stem = b // 2
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
            nn.Conv2d(stem, stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU(inplace=True),
            nn.Conv2d(stem, b, 3, 1, 1, bias=False))
        self.bn1 = nn.BatchNorm2d(b)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.inplanes = b
        grid4 = list(layer4_grid) if len(layer4_grid) == layers[3] else [1] * layers[3]
        for i, n in enumerate(layers):
            grid = grid4 if i == 3 else [1] * n
            self.add_module(f'layer{i + 1}', self._make_layer(b * 2 ** i, n, strides[i], dilations[i], grid,
                                                             base_width, scale))
        self.out_channels = [b, 4 * b, 8 * b, 16 * b, 32 * b]
        self.output_stride = 4 * strides[1] * strides[2] * strides[3]
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if weights_source(pretrained):
            self.load_pretrained(pretrained)
        self._freeze()

    def _make_layer(self, planes, blocks, stride, dilation, grid, base_width, scale) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottle2neck.expansion:
            downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True, count_include_pad=False),
                nn.Conv2d(self.inplanes, planes * Bottle2neck.expansion, 1, bias=False),
                nn.BatchNorm2d(planes * Bottle2neck.expansion))
        mods = [Bottle2neck(self.inplanes, planes, stride, dilation, downsample, base_width, scale, first=True)]
        self.inplanes = planes * Bottle2neck.expansion
        for i in range(1, blocks):
            mods.append(Bottle2neck(self.inplanes, planes, 1, dilation * grid[i], None, base_width, scale))
        return nn.Sequential(*mods)

    def load_pretrained(self, path: str) -> None:
        from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, \
            strip_prefix
        sd = strip_prefix(extract_state_dict(load_checkpoint_file(path), path))
        sd = {k: v for k, v in sd.items() if not k.startswith('fc.')}
        load_state_dict_checked(self, sd, path, strict=True)

    def _freeze(self) -> None:
        if self.frozen_stages >= 0:
            for m in (self.conv1, self.bn1):
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f'layer{i}')
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = [x]
        for i in range(1, 5):
            x = getattr(self, f'layer{i}')(x)
            outs.append(x)
        return outs
