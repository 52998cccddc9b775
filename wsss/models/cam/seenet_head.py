"""SeeNet head: branches S_A, S_B (C-ReLU) and S_C (background zone) on one shared feature.

Hou, Jiang, Wei, Cheng. *Self-Erasing Network for Integral Object Attention*, NeurIPS 2018 (arXiv 1810.09821).
Official code: ``houqb/SeeNet`` (Caffe, inference only). The mask operations are in ``wsss.models.cam.seenet``.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.cam.cam_head import CAMHead
from wsss.models.cam.seenet import background_mask, c_relu, fuse_max, seenet_attention, ternary_mask
from wsss.registry import CAM_HEADS


class BranchHead(nn.Module):
    """SeeNet branch head: ``num_convs × (conv3×3-channels + ReLU) → Dropout2d → 1×1 classifier (no bias)``.

    Parameter names: ``convs.{2i}.weight/bias`` and ``cls.weight``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_convs: int = 2, channels: int = 512,
                 dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(num_convs):
            layers += [nn.Conv2d(in_channels if i == 0 else channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*layers)
        self.drop = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.cls = nn.Conv2d(channels if num_convs else in_channels, out_channels, 1, bias=False)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cls(self.drop(self.convs(x)))


@CAM_HEADS.register_module()
class SeeNetHead(CAMHead):
    """SeeNet: three classifiers on the feature x, every one trained with the multi-label loss.

    - S_A = ``fc8(x)``; its class maps ``A_k = max(S_A_k, 0)`` give the attention map
      ``M = max_{present k} minmax(A_k)`` (detached) and, with δ_h / δ_l relative to max(M),
      the ternary mask T_A (0 erased where M > δ_h, −1 background where M < δ_l, 1 elsewhere);
    - S_B = ``fc8_b(C-ReLU(x))``, ``C-ReLU(x) = max(x, 0) · T_A`` (paper, C-ReLU);
    - S_C = ``fc8_c(max(x, 0) · B)``, ``B = 1[M < (δ_h + δ_l) / 2]`` (the paper's single threshold for S_C).

    Losses, on GAP logits z = mean_xy(·): ``loss_cls`` (S_A), ``loss_cls_b = cls_loss(z_B[:, :C], y)``,
    ``loss_cls_c = cls_loss(z_C, 0)`` — S_C's target is the all-zero vector over all C classes for every image:
    the background zone holds no object of any class (features outside it are zeroed, as S_B's erased zone).

    Test time: per class ``max(minmax(max(A, 0)), minmax(max(B, 0)))`` of S_A's and S_B's class maps (paper, test
    phase); flips and scales fused by max. The mask needs the image labels (the official C-ReLU layer takes the
    ground-truth label at test time too): ``forward`` takes ``cls_label``; without it, the classes with
    ``sigmoid(z_A) > 0.5`` (else the top-1) are used.

    Args:
        delta_h, delta_l: thresholds relative to max(M) (paper: 0.7 and 0.05; the official Caffe deploy uses
            absolute 0.8 / 0.0 on the normalised map).
        num_convs, channels, dropout: every branch's layers, :class:`BranchHead` (paper: conv3×3-512 + ReLU ×2 →
            Dropout2d(0.5) → 1×1); ``num_convs=0`` gives bare 1×1 ``fc8`` layers like EPS's (``dropout`` unused).
        **kwargs: :class:`CAMHead` arguments (``flip_fusion`` defaults to 'max' here).

    Parameter names: ``fc8`` (S_A), ``fc8_b`` (S_B), ``fc8_c`` (S_C); each ``<name>.weight`` when ``num_convs=0``,
    else ``<name>.convs.*`` / ``<name>.cls.weight``.
    """

    def __init__(self, in_channels: int, num_classes: int = 20, delta_h: float = 0.7, delta_l: float = 0.05,
                 num_convs: int = 2, channels: int = 512, dropout: float = 0.5, flip_fusion: str = 'max',
                 **kwargs):
        # classifier() reads this and CAMHead.__init__ calls it for fc8, so it is set first (a plain attribute)
        self.branch_cfg = dict(num_convs=num_convs, channels=channels, dropout=dropout)
        super().__init__(in_channels, num_classes, flip_fusion=flip_fusion, **kwargs)     # fc8 = S_A, losses
        self.delta_h, self.delta_l = delta_h, delta_l
        self.fc8_b = self.classifier(in_channels, num_classes + int(self.background_channel))  # S_B (C-ReLU input)
        self.fc8_c = self.classifier(in_channels, num_classes)      # S_C (background-zone input), C outputs

    def classifier(self, in_channels: int, out_channels: int) -> nn.Module:
        if self.branch_cfg['num_convs'] == 0:
            return super().classifier(in_channels, out_channels)
        return BranchHead(in_channels, out_channels, **self.branch_cfg)

    def predicted_labels(self, cam_a: torch.Tensor) -> torch.Tensor:
        """(B, C) classes with ``sigmoid(z_A) > 0.5``, else the top-1: the mask's classes without image labels."""
        z = cam_a[:, :self.num_classes].mean((2, 3))
        lab = (torch.sigmoid(z) > 0.5).to(z.dtype)
        top1 = F.one_hot(z.argmax(1), self.num_classes).to(z.dtype)
        return torch.where(lab.sum(1, keepdim=True) > 0, lab, top1)

    def branch_input(self, x: torch.Tensor) -> torch.Tensor:
        """The feature S_B and S_C read: the shared one (every branch trains the backbone)."""
        return x

    def forward(self, x: torch.Tensor, cls_label: Optional[torch.Tensor] = None) -> dict:
        """``cam`` (S_A), ``cam_b``, ``cam_c``, and the masks ``att`` (M), ``ternary`` (T_A), ``bg_mask`` (B)."""
        out = super().forward(x, cls_label)
        if cls_label is None:
            cls_label = self.predicted_labels(out['cam'])
        att = seenet_attention(self.class_maps(out['cam']), cls_label)            # M, detached
        tern = ternary_mask(att, self.delta_h, self.delta_l)                       # T_A ∈ {0, −1, 1}
        bg = background_mask(att, self.delta_h, self.delta_l)                      # B ∈ {0, 1}
        xe = self.branch_input(x)
        out.update(att=att, ternary=tern, bg_mask=bg,
                   cam_b=self.fc8_b(c_relu(xe, tern)),                             # S_B(C-ReLU(x))
                   cam_c=self.fc8_c(c_relu(xe, bg)))                               # S_C(max(x, 0) · B)
        return out

    def loss(self, out: dict, batch: dict) -> dict:
        losses = super().loss(out, batch)
        label = batch['cls_label'].float()
        losses['loss_cls_b'] = self.cls_loss(out['cam_b'][:, :self.num_classes].mean((2, 3)), label)
        z_c = out['cam_c'].mean((2, 3))
        losses['loss_cls_c'] = self.cls_loss(z_c, torch.zeros_like(z_c))          # S_C target: all-zero
        return losses

    def cam_maps(self, out: dict) -> torch.Tensor:
        return fuse_max(self.class_maps(out['cam']), self.class_maps(out['cam_b']))
