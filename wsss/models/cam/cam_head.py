"""Plain CAM head, and the interface every CAM head implements.

Zhou, Khosla, Lapedriza, Oliva, Torralba. *Learning Deep Features for Discriminative Localization*, CVPR 2016;
trained as PSA's classifier (Ahn, Kwak, CVPR 2018; official code ``jiwoon-ahn/psa`` ``network/resnet38_cls.py``).
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from wsss.registry import CAM_HEADS, LOSSES


@CAM_HEADS.register_module()
class CAMHead(nn.Module):
    """Plain CAM: ``fc8``, a bias-free 1×1 conv from the feature to C class maps.

    A CAM head is one method. :class:`~wsss.models.cam.CAMClassifier` gives it the feature x (B, in_channels, h, w)
    after the backbone, neck and feature dropout, and the head owns the rest:

    - ``forward(x, cls_label) -> dict``: raw outputs, ``'cam'`` (B, C[+1], h, w) plus any maps of its own;
    - ``loss(out, batch) -> dict``: the ``loss_*`` terms (the trainer sums them);
    - ``cam_maps(out) -> (B, C, h, w)``: non-negative per-class maps by the method's test-time rule;
    - attributes ``background_channel``, ``flip_fusion``, ``needs_saliency`` (``loss`` reads ``batch['sal']``).

    Layers are named ``fc8*`` (official ``fc8``), so ``paramwise_cfg custom_keys={'fc8': ...}`` hits every head
    and nothing in the backbones; CAMClassifier stores them at the root of the state_dict.

    Loss: ``loss_cls = cls_loss(z, y)`` on the GAP logits ``z = mean_xy(cam)`` (B, C) with the image labels y.
    Test time: ``relu(cam)`` (official ``forward_cam`` + ReLU); flips and scales summed (official PSA/EPS
    ``infer.py``).

    Args:
        in_channels: feature channels (given by CAMClassifier).
        num_classes: C foreground classes (given by CAMClassifier).
        cls_loss: LOSSES config of the multi-label loss on GAP logits.
        flip_fusion: how multi-scale / flip passes are fused, 'sum' or 'max'.
    """

    background_channel = False  # True: a background channel (index C, last) after the C class maps
    needs_saliency = False

    def __init__(self, in_channels: int, num_classes: int = 20,
                 cls_loss: dict = dict(type='MultiLabelSoftMarginLoss'), flip_fusion: str = 'sum'):
        super().__init__()
        if flip_fusion not in ('sum', 'max'):
            raise ValueError(f"flip_fusion must be 'sum' or 'max', got {flip_fusion!r}")
        self.num_classes = num_classes
        self.flip_fusion = flip_fusion
        self.fc8 = self.classifier(in_channels, num_classes + int(self.background_channel))
        self.cls_loss = LOSSES.build(cls_loss)

    def classifier(self, in_channels: int, out_channels: int) -> nn.Module:
        """One classifier layer: the official ``fc8``, a bias-free 1×1 conv with Xavier-uniform init."""
        conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        nn.init.xavier_uniform_(conv.weight)
        return conv

    def forward(self, x: torch.Tensor, cls_label: Optional[torch.Tensor] = None) -> dict:
        return {'cam': self.fc8(x)}

    def class_maps(self, cam: torch.Tensor) -> torch.Tensor:
        """Non-negative foreground maps (B, C, h, w) of one classifier's output: ``relu(CAM)``."""
        return torch.relu(cam[:, :self.num_classes])

    def loss(self, out: dict, batch: dict) -> dict:
        z = out['cam'][:, :self.num_classes].mean((2, 3))                 # GAP logits (B, C)
        return {'loss_cls': self.cls_loss(z, batch['cls_label'].float())}

    def cam_maps(self, out: dict) -> torch.Tensor:
        return self.class_maps(out['cam'])
