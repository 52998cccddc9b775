"""Segmenters (``SEGMENTERS``): a backbone and a decode head (mmseg's EncoderDecoder, without auxiliary head).

``EncoderDecoder(backbone=dict(type=...), decode_head=dict(type=...), num_classes=21)``:

* ``forward(img) -> logits (B, C, h, w)`` at the head's feature resolution (stride 8 for DeepLab-v2/LargeFOV
  and SANet on a dilated ResNet at OS 8; stride 4 for DeepLab-v3+ and SANet, whose outputs follow their finest
  input stage);
* ``predict(img) -> logits (B, C, H, W)``: ``forward`` bilinearly upsampled to the input size;
* ``loss(batch)``: the head's losses (``loss_*`` keys; ``acc_seg`` is only logged). Labels: ``batch['seg']``
  (ignore 255); SANet also uses ``batch['cls_label']``.

The decode head gets ``in_channels = backbone.out_channels`` and ``num_classes`` filled in, and chooses its
stages with ``in_index``. Named variants only pick the default head type:
``DeepLabV2`` (``ASPPv2Head``), ``DeepLabLargeFOV`` (``LargeFOVHead``), ``DeepLabV3Plus``
(``ASPPv3PlusHead``), ``SANet`` (``SAHead``). Submodules are ``backbone`` and ``decode_head`` (the names the
lr multipliers of configs/_base_/models use).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from wsss.registry import BACKBONES, DECODE_HEADS, SEGMENTERS


@SEGMENTERS.register_module()
class EncoderDecoder(nn.Module):
    """Backbone + decode head (module docstring)."""

    default_head: Optional[str] = None

    def __init__(self, backbone: dict, decode_head: Optional[dict] = None, num_classes: int = 21,
                 align_corners: bool = False):
        super().__init__()
        self.backbone = BACKBONES.build(dict(backbone))
        head = dict(decode_head or {})
        if 'type' not in head:
            if self.default_head is None:
                raise ValueError('decode_head needs a type')
            head['type'] = self.default_head
        head.setdefault('in_channels', list(self.backbone.out_channels))
        head.setdefault('num_classes', num_classes)
        head.setdefault('align_corners', align_corners)
        self.decode_head = DECODE_HEADS.build(head)
        self.num_classes = self.decode_head.num_classes
        self.align_corners = align_corners

    def extract_feat(self, img: torch.Tensor) -> list[torch.Tensor]:
        return self.backbone(img)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.decode_head(self.extract_feat(img))

    def predict(self, img: torch.Tensor) -> torch.Tensor:
        logits = self.forward(img)
        return F.interpolate(logits, size=img.shape[-2:], mode='bilinear', align_corners=self.align_corners)

    def loss(self, batch: dict) -> dict:
        return self.decode_head.loss(self.extract_feat(batch['img']), batch)


@SEGMENTERS.register_module()
class DeepLabV2(EncoderDecoder):
    """DeepLab-v2: dilated backbone (ResNet-101 at OS 8, frozen BN in the configs) + ``ASPPv2Head`` (rates
    6/12/18/24, summed; 3/6/9/12 at OS 16 in the Lite0 config)."""
    default_head = 'ASPPv2Head'


@SEGMENTERS.register_module()
class DeepLabLargeFOV(EncoderDecoder):
    """DeepLab-LargeFOV (DeepLab-v1 head: fc6 3x3 rate 12 -> fc7 1x1 -> classifier), SeeNet's segmenter."""
    default_head = 'LargeFOVHead'


@SEGMENTERS.register_module()
class DeepLabV3Plus(EncoderDecoder):
    """DeepLab-v3+: ASPP with image pooling + low-level decoder (``ASPPv3PlusHead``)."""
    default_head = 'ASPPv3PlusHead'


@SEGMENTERS.register_module()
class SANet(EncoderDecoder):
    """SANet (Zhong et al., CVPR 2020): SA modules on 4 stages, L = L_mask + 0.2 L_cat + 0.8 L_den
    (``SAHead``; see wsss/models/segmenters/sa_head.py)."""
    default_head = 'SAHead'
