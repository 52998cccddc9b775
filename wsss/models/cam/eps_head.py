"""EPS head: plain CAM with a background channel and the EPS saliency loss.

Lee, Kim, Shim. *Railroad is not a Train: Saliency as Pseudo-pixel Supervision for Weakly Supervised Semantic
Segmentation*, CVPR 2021 (arXiv 2105.08965). Official code: ``halbielee/EPS`` (``network/resnet38_eps.py``,
``eps.py``, ``infer.py``).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from wsss.models.cam.cam_head import CAMHead
from wsss.registry import CAM_HEADS, LOSSES


@CAM_HEADS.register_module()
class EPSHead(CAMHead):
    """EPS: ``fc8`` with C + 1 outputs (background last), multi-label loss + EPS saliency loss.

    As official EPS trains it on VOC (``resnet38_eps.Net(21)``: fc8 [21, 4096, 1, 1], no dropout before it):

    - ``loss_cls = cls_loss(z[:, :C], y)``: the background logit never enters the classification loss;
    - ``loss_sal = sal_loss(cam, S, y)``: the EPS rule on ``softmax(cam)`` over C + 1 vs. the saliency map S
      (``batch['sal']``), see :func:`wsss.models.cam.eps_loss.eps_saliency_loss` (eq. (1)-(2)).

    Test time: ``softmax(cam)`` over C + 1, the C foreground channels (official ``infer.py``); flips and scales
    summed.

    Args:
        sal_loss: LOSSES config of the saliency loss (official VOC: τ 0.4, λ 0.5; COCO: λ 0.9); None trains the
            background channel without saliency (the loss then never reads ``batch['sal']``).
        **kwargs: :class:`CAMHead` arguments.
    """

    background_channel = True

    def __init__(self, in_channels: int, num_classes: int = 20,
                 sal_loss: Optional[dict] = dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5), **kwargs):
        super().__init__(in_channels, num_classes, **kwargs)
        self.sal_loss = LOSSES.build(sal_loss) if sal_loss is not None else None

    @property
    def needs_saliency(self) -> bool:
        return self.sal_loss is not None

    def class_maps(self, cam: torch.Tensor) -> torch.Tensor:
        """Softmax over C + 1, the C foreground probabilities."""
        return F.softmax(cam, dim=1)[:, :self.num_classes]

    @staticmethod
    def saliency(batch: dict) -> torch.Tensor:
        if 'sal' not in batch:
            raise KeyError("this CAM model has a saliency loss but the batch has no 'sal': configure a "
                           'saliency source for the CAM stage')
        return batch['sal'].float()

    def loss(self, out: dict, batch: dict) -> dict:
        losses = super().loss(out, batch)
        if self.sal_loss is not None:
            losses['loss_sal'] = self.sal_loss(out['cam'], self.saliency(batch), batch['cls_label'].float())
        return losses
