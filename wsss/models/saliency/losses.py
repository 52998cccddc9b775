"""InSPyReNet training loss (paper Eq. 5; official ``forward_train`` + ``lib/optim/losses.py``).

    L = sum_{j=0..3} [ wBCE(S^j, G^j) + IoU(S^j, G^j) ]  +  eta * sum_{j=1..3} L1(S^j, stopgrad(REDUCE(S^{j-1})))

- ``S^j``: saliency logits of stage j (d0 finest .. d3 coarsest); ``G^j``: Gaussian pyramid of the soft ground
  truth, ``G^0 = gt``, ``G^j = REDUCE(G^{j-1})``.
- Every term is computed at the input resolution: both sides are resized with *nearest* interpolation to (H, W).
- wBCE: ``w = 1 + 5 |avgpool_31(G) - G|`` (zero padding counted in the mean), ``mean(w * BCE(sigmoid(S), G))``
  (plain mean, not normalised by sum(w)). IoU: per-pixel soft IoU ``1 - (pG + 1) / (p + G - pG + 1)``, mean.
- Pyramidal consistency (PC) in logit space, weight ``eta = 1e-4``, mean absolute error.

Deviation: the paper writes stage weights lambda_j = 4^j; the official code uses 1 for every stage (and sums the
PC terms at full resolution), which is what we do (``stage_weights`` can change it).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from wsss.models.saliency.pyramid import ImagePyramid
from wsss.registry import LOSSES


def weighted_bce_with_logits(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    w = 1 + 5 * torch.abs(F.avg_pool2d(gt, kernel_size=31, stride=1, padding=15) - gt)
    p = torch.sigmoid(logits)
    # BCE on probabilities like the official code (F.binary_cross_entropy clamps log at -100)
    bce = F.binary_cross_entropy(p, gt, reduction='none')
    return (w * bce).mean()


def soft_iou_with_logits(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits)
    inter = p * gt
    return (1 - (inter + 1) / (p + gt - inter + 1)).mean()


@LOSSES.register_module()
class InSPyReNetLoss(nn.Module):
    """Loss over the saliency pyramid ``[d3, d2, d1, d0]`` (coarse to fine logits) against ``gt`` (B,1,H,W).

    Returns ``{'loss_sod_d3', 'loss_sod_d2', 'loss_sod_d1', 'loss_sod_d0', 'loss_pc'}``.
    """

    def __init__(self, pc_weight: float = 1e-4, stage_weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0)):
        super().__init__()
        self.pc_weight = pc_weight
        self.stage_weights = tuple(stage_weights)  # for d3, d2, d1, d0
        self.pyramid = ImagePyramid(7, 1.0)

    def forward(self, saliency: Sequence[torch.Tensor], gt: torch.Tensor) -> dict[str, torch.Tensor]:
        # BCE on probabilities is not autocast-safe: the loss runs in float32 (float64 stays float64)
        def up(t):
            return t if t.dtype == torch.float64 else t.float()
        with torch.autocast(device_type=gt.device.type, enabled=False):
            return self._forward([up(s) for s in saliency], up(gt))

    def _forward(self, saliency: Sequence[torch.Tensor], gt: torch.Tensor) -> dict[str, torch.Tensor]:
        d3, d2, d1, d0 = saliency
        size = gt.shape[-2:]

        def des(x):
            return F.interpolate(x, size=size, mode='nearest')

        g1 = self.pyramid.reduce(gt)
        g2 = self.pyramid.reduce(g1)
        g3 = self.pyramid.reduce(g2)
        out = {}
        for name, s, g, wgt in zip(('d3', 'd2', 'd1', 'd0'), (d3, d2, d1, d0), (g3, g2, g1, gt),
                                   self.stage_weights):
            s, g = des(s), des(g)
            out[f'loss_sod_{name}'] = wgt * (weighted_bce_with_logits(s, g) + soft_iou_with_logits(s, g))
        pc = 0
        for coarse, fine in ((d3, d2), (d2, d1), (d1, d0)):
            target = des(self.pyramid.reduce(fine)).detach()
            pc = pc + F.l1_loss(des(coarse), target)
        out['loss_pc'] = self.pc_weight * pc
        return out
