"""VGG-16 up to ``conv5_3``: SeeNet's attention backbone.

SeeNet (Hou et al., NeurIPS 2018; ``houqb/SeeNet`` ``deploy_seenet.prototxt``) puts its branches on ``conv5_3`` of
VGG-16 after ``pool1``-``pool4`` (2x2, stride 2) and **no** ``pool5``: output stride 16, no dilation.

``VGG16()`` -> ``forward(x)`` returns ``[conv3_3, conv4_3, conv5_3]`` (after ReLU; channels ``[256, 512, 512]``,
strides ``4, 8, 16``). Parameters keep torchvision's names (``features.{0,2,5,...,28}.weight/bias``), so the
torchvision ImageNet file (``vgg16-397923af.pth``, RGB input normalised with the ImageNet mean/std, as every batch
of this project) loads as it is (``pretrained=<local path>``; its ``classifier.*`` is dropped).
**Deviation**: the SeeNet prototxt was trained from the Caffe VGG-16 (BGR, mean-subtracted 0-255 input); the
torchvision weights are the ImageNet VGG-16 of PyTorch, which is what a user can get without Caffe.

Options: ``frozen_stages`` (-1 none, k: blocks 1..k frozen, i.e. no gradient; VGG has no BatchNorm).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from wsss.models.backbones.backbone_utils import apply_freezing, set_requires_grad
from wsss.registry import BACKBONES
from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, strip_prefix

#: (convs, channels) of the five VGG-16 blocks; torchvision's ``features`` indices follow from it
_BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def _features() -> tuple[nn.Sequential, list[int]]:
    """torchvision's ``vgg16().features`` without ``pool5``, and the index of each block's last ReLU."""
    layers: list[nn.Module] = []
    ends, c_in = [], 3
    for b, (n, c) in enumerate(_BLOCKS):
        for _ in range(n):
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(inplace=True)]
            c_in = c
        ends.append(len(layers) - 1)
        if b < 4:                                   # pool1..pool4; SeeNet has no pool5
            layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers), ends


@BACKBONES.register_module()
class VGG16(nn.Module):
    """VGG-16 features to ``conv5_3`` (module docstring)."""

    def __init__(self, frozen_stages: int = -1, pretrained: Optional[str] = None, out_indices=(2, 3, 4)):
        super().__init__()
        if not -1 <= frozen_stages <= 5:
            raise ValueError(f'frozen_stages must be in -1..5, got {frozen_stages}')
        self.features, self._ends = _features()
        self.out_indices = tuple(out_indices)
        self.out_channels = [_BLOCKS[i][1] for i in self.out_indices]
        self.output_stride = 2 ** min(self.out_indices[-1], 4)
        self.frozen_stages = frozen_stages
        for m in self.features:
            if isinstance(m, nn.Conv2d):  # torchvision's VGG init
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(m.bias)
        if pretrained:
            self.load_pretrained(pretrained)
        apply_freezing(self, self._frozen_modules(), norm_eval=False)

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 1:
            return []
        return list(self.features[:self._ends[self.frozen_stages - 1] + 1])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs, start = [], 0
        for b, end in enumerate(self._ends):
            x = self.features[start:end + 1](x)
            start = end + 1
            if b in self.out_indices:
                outs.append(x)
        return outs

    def train(self, mode: bool = True):
        super().train(mode)
        if mode:
            for m in self._frozen_modules():
                m.eval()
        return self

    def load_pretrained(self, path: str) -> None:
        """A torchvision ``vgg16`` state_dict (``features.*``; ``classifier.*`` dropped), strictly."""
        sd = strip_prefix(extract_state_dict(load_checkpoint_file(path), path), 'module.')
        sd = {k: v for k, v in sd.items() if not k.startswith('classifier.')}
        load_state_dict_checked(self, sd, path, strict=True)
        set_requires_grad(self._frozen_modules(), False)
