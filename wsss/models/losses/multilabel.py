"""Multi-label image classification loss: the CAM classifiers' ``L_cls`` and SANet's categorical ``L_cat``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.registry import LOSSES


@LOSSES.register_module()
class MultiLabelSoftMarginLoss(nn.Module):
    """``F.multilabel_soft_margin_loss`` (mean over classes and batch), as PSA/EPS/SeeNet use on GAP logits and
    SANet on its class-presence logits.

    ``L = −mean_{b,k} [y_bk log σ(z_bk) + (1 − y_bk) log(1 − σ(z_bk))]``;
    logits (B, C), targets (B, C) in {0, 1} (moved to the logits' device). Computed in float32 (reduced-precision
    logits under AMP are cast up).
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        return self.loss_weight * F.multilabel_soft_margin_loss(logits, target.to(logits.device, logits.dtype))

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
