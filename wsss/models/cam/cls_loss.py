"""Multi-label image classification loss of the CAM classifiers."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.registry import LOSSES


@LOSSES.register_module()
class MultiLabelSoftMarginLoss(nn.Module):
    """``F.multilabel_soft_margin_loss`` (mean over classes and batch), as PSA/EPS/SeeNet use on GAP logits.

    ``L = −mean_{b,k} [y_bk log σ(z_bk) + (1 − y_bk) log(1 − σ(z_bk))]``;
    logits (B, C), targets (B, C) in {0, 1}.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * F.multilabel_soft_margin_loss(logits, target.to(logits.dtype))

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}'
