"""Segmenters (``SEGMENTERS``): a backbone and a decode head (mmseg's EncoderDecoder, without auxiliary head).

``EncoderDecoder(backbone=dict(type=...), decode_head=dict(type=...), num_classes=21)``:

* ``forward(img) -> logits (B, C, h, w)`` at the head's feature resolution (stride 8 for DeepLab-v2/LargeFOV
  and SANet on a dilated ResNet at OS 8; stride 4 for DeepLab-v3+ and SANet, whose outputs follow their finest
  input stage);
* ``predict(img) -> logits (B, C, H, W)``: ``forward`` bilinearly upsampled to the input size;
* ``loss(batch)``: the head's losses (``loss_*`` keys; ``acc_seg`` is only logged). Labels: ``batch['seg']``
  (ignore 255); SANet also uses ``batch['cls_label']``.

Multi-scale inputs (``msc_scales``, e.g. ``(0.75, 0.5)``; kazuto1011/deeplab-pytorch's ``MSC`` wrapper, with which
EPS's DeepLab-v2 numbers were trained): the network also runs on the input resized by each scale (bilinear,
sizes ``int(s * H), int(s * W)``); the outputs are upsampled to the full-scale logits' size and fused by a
pixel-wise max. Training (``loss``) puts one loss on each output — full scale, each scale, and the max — with the
labels shrunk to that output's size (nearest at pixel centres, as PIL), so with the default
``SegCrossEntropyLoss`` the loss is ``L_1 + L_0.75 + L_0.5 + L_max``. Test time: :meth:`predict_msc_max` (the max
fusion, deeplab-pytorch's test mode); ``predict`` stays single-scale.

The decode head gets ``in_channels = backbone.out_channels`` and ``num_classes`` filled in, and chooses its
stages with ``in_index``. Named variants only pick the default head type:
``DeepLabV2`` (``ASPPv2Head``), ``DeepLabLargeFOV`` (``LargeFOVHead``), ``DeepLabV3Plus``
(``ASPPv3PlusHead``), ``SANet`` (``SAHead``). Submodules are ``backbone`` and ``decode_head`` (the names the
lr multipliers of configs/_base_/models use).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.losses.seg_losses import shrink_labels
from wsss.models.segmenters.decode_heads import pixel_accuracy
from wsss.registry import BACKBONES, DECODE_HEADS, SEGMENTERS


@SEGMENTERS.register_module()
class EncoderDecoder(nn.Module):
    """Backbone + decode head (module docstring)."""

    default_head: Optional[str] = None

    def __init__(self, backbone: dict, decode_head: Optional[dict] = None, num_classes: int = 21,
                 align_corners: bool = False, msc_scales: Optional[Sequence[float]] = None):
        super().__init__()
        self.msc_scales = tuple(float(s) for s in msc_scales) if msc_scales else None
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
        if self.msc_scales and not getattr(self.decode_head, 'single_loss', False):
            raise ValueError(f'msc_scales needs a head trained with one loss_decode; {type(self.decode_head).__name__} '
                             'has several losses')

    def extract_feat(self, img: torch.Tensor) -> list[torch.Tensor]:
        return self.backbone(img)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.decode_head(self.extract_feat(img))

    def predict(self, img: torch.Tensor) -> torch.Tensor:
        logits = self.forward(img)
        return F.interpolate(logits, size=img.shape[-2:], mode='bilinear', align_corners=self.align_corners)

    def msc_forward(self, img: torch.Tensor, scales: Optional[Sequence[float]] = None) -> list[torch.Tensor]:
        """``[full, *one per scale, max]`` logits (module docstring); each at its own resolution except the max,
        which is at the full-scale logits' size."""
        scales = self.msc_scales if scales is None else tuple(scales)
        if not scales:
            raise ValueError('msc_forward needs scales: set the segmenter\'s msc_scales, e.g. (0.75, 0.5)')
        logits = self.forward(img)
        pyramid = [self.forward(F.interpolate(img, size=[int(s * d) for d in img.shape[-2:]], mode='bilinear',
                                              align_corners=False)) for s in scales]
        upsampled = [F.interpolate(p, size=logits.shape[-2:], mode='bilinear', align_corners=False) for p in pyramid]
        fused = torch.stack([logits] + upsampled).max(0).values                    # pixel-wise max over scales
        return [logits] + pyramid + [fused]

    def predict_msc_max(self, img: torch.Tensor, scales: Optional[Sequence[float]] = None) -> torch.Tensor:
        """deeplab-pytorch's test mode: the max-fused multi-scale logits, upsampled to the input size."""
        scales = scales if scales is not None else (self.msc_scales or (0.75, 0.5))
        fused = self.msc_forward(img, scales)[-1]
        return F.interpolate(fused, size=img.shape[-2:], mode='bilinear', align_corners=self.align_corners)

    def loss(self, batch: dict) -> dict:
        if self.msc_scales is None:
            return self.decode_head.loss(self.extract_feat(batch['img']), batch)
        loss_decode = self.decode_head.loss_decode
        outputs = self.msc_forward(batch['img'])
        names = ['loss_ce'] + [f'loss_ce_x{s:g}' for s in self.msc_scales] + ['loss_ce_max']
        seg = batch['seg']
        losses = {name: loss_decode(out, shrink_labels(seg, out.shape[-2:]))   # labels shrunk to each output
                  for name, out in zip(names, outputs)}
        losses['acc_seg'] = pixel_accuracy(outputs[0], seg, getattr(loss_decode, 'ignore_index', 255),
                                           self.align_corners)
        return losses


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
