"""SANet head: squeeze-and-attention modules on several backbone stages (Zhong et al., "Squeeze-and-Attention
Networks for Semantic Segmentation", CVPR 2020, arXiv 1909.03402).

SA module (paper Sec. 3, Fig. 2c)::

    X_attn = Up( F_attn( APool(X_in) ) )        # attention branch on a *not fully squeezed* map
    X_out  = X_attn * F(X_in) + X_attn          # F: the main conv branch

``APool`` is an average pooling with kernel = stride = ``pool_kernel`` (2; ``ceil_mode`` so odd sizes keep
their border), ``F_attn`` and ``F`` are ``num_convs`` conv-BN-ReLU each, ``Up`` is bilinear upsampling to the
main branch size. There is **no sigmoid/softmax** on ``X_attn``: the paper's equations use the raw conv output
(also remarked by the cnblogs review of the paper); some third-party re-implementations add one -- we do not.

Head (paper Sec. 3.4 and Fig. 3): SA modules on the stages ``in_index`` (ResNet: the 4 stages of
the dilated backbone; EfficientNet-Lite0: levels ``(1, 2, 3, 4)``), outputs upsampled to the first (finest)
selected stage and concatenated; from the concatenation

* ``mask`` logits: 1x1 conv-BN-ReLU -> dropout -> 1x1 ``conv_seg`` to ``num_classes`` (the fused, class-wise
  masks: this is the segmenter's prediction);
* ``cat`` logits: global average pooling -> linear ``cat_fc`` to the image-level classes (20 VOC foreground
  classes by default);

and from the deepest stage (``dense_index``) a plain FCN head ``dense_head`` gives ``dense`` logits.

Losses (paper, Sec. 3.4 / Fig. 4 ablation: best alpha = 0.2, beta = 0.8)::

    L = L_mask + alpha * L_cat + beta * L_den

``L_mask``: per-pixel CE (ignore 255) on the fused mask logits; ``L_den``: per-pixel CE on the dense FCN
logits; ``L_cat``: multi-label soft margin (binary cross-entropy) on the class-presence logits. alpha and beta
are the ``loss_weight`` of ``loss_cat`` / ``loss_den``. ``L_cat``'s target is ``batch['cls_label']`` (image
labels, 20 foreground classes) when present -- in WSSS these are the real image-level labels -- otherwise the
classes present in ``batch['seg']`` (ignoring 255). With ``cat_include_background=True`` the target has
``num_classes`` entries and is always derived from ``seg``.

Source: the paper gives the loss equation, the weights and Fig. 3's description ("the SA heads generate
multi-scale class-wise masks ... supervised by the categorical regions of the ground truth; the masks guide the
pixel-wise prediction, which is the output of an FCN head"), which leaves open which of L_mask / L_den is the
"final" output. We predict with the fused mask logits (weight 1 in L) and keep the FCN head as the dense
auxiliary branch (weight beta); no official code exists to settle it.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.segmenters.decode_heads import BaseDecodeHead, FCNHead, conv_bn_relu, init_conv_bn, pixel_accuracy
from wsss.registry import DECODE_HEADS, LOSSES


class SAModule(nn.Module):
    """Squeeze-and-attention module: ``out = up(attn(avgpool(x))) * main(x) + up(attn(avgpool(x)))``."""

    def __init__(self, in_channels: int, out_channels: int, pool_kernel: int = 2, num_convs: int = 2,
                 kernel_size: int = 3, align_corners: bool = False):
        super().__init__()
        self.pool_kernel = pool_kernel
        self.align_corners = align_corners

        def branch():
            return nn.Sequential(*[conv_bn_relu(in_channels if i == 0 else out_channels, out_channels, kernel_size)
                                   for i in range(num_convs)])
        self.main = branch()
        self.attn = branch()

    def attention(self, x: torch.Tensor, size) -> torch.Tensor:
        a = F.avg_pool2d(x, self.pool_kernel, stride=self.pool_kernel, ceil_mode=True) if self.pool_kernel > 1 else x
        a = self.attn(a)
        return F.interpolate(a, size=size, mode='bilinear', align_corners=self.align_corners)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.main(x)
        attn = self.attention(x, main.shape[-2:])
        return attn * main + attn


@DECODE_HEADS.register_module()
class SAHead(BaseDecodeHead):
    """SANet head (module docstring). ``forward(feats)`` -> fused mask logits; ``forward_all`` -> dict with
    ``mask`` (B,C,h,w), ``cat`` (B,K), ``dense`` (B,C,h',w'); ``loss`` -> ``loss_mask``, ``loss_cat``,
    ``loss_den`` (each already weighted by its ``loss_weight``) and ``acc_seg``."""

    single_loss = False  # L_mask + alpha L_cat + beta L_den

    def __init__(self, in_channels, num_classes: int = 21, in_index: Sequence[int] = (0, 1, 2, 3),
                 channels: int = 128, pool_kernel: int = 2, num_convs: int = 2, fuse_channels: int = 256,
                 dropout: float = 0.1, dense_index: int = -1, dense_channels: int = 256,
                 cat_include_background: bool = False,
                 loss_mask: Optional[dict] = None, loss_cat: Optional[dict] = None, loss_den: Optional[dict] = None,
                 align_corners: bool = False):
        loss_mask = loss_mask if loss_mask is not None else dict(type='SegCrossEntropyLoss', loss_weight=1.0)
        super().__init__(in_channels, num_classes, in_index, loss_mask, align_corners)
        if isinstance(self.in_index, int):
            raise ValueError('SAHead needs a sequence in_index (the stages that get an SA module)')
        self.sa_modules = nn.ModuleList(SAModule(c, channels, pool_kernel, num_convs, align_corners=align_corners)
                                        for c in self.in_channels)
        cat_channels = channels * len(self.in_channels)
        self.fuse = conv_bn_relu(cat_channels, fuse_channels, 1)
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(fuse_channels, num_classes, 1)
        self.cat_include_background = cat_include_background
        self.num_cat_classes = num_classes if cat_include_background else num_classes - 1
        self.cat_fc = nn.Linear(cat_channels, self.num_cat_classes)
        init_conv_bn(self)
        nn.init.normal_(self.conv_seg.weight, 0.0, 0.01)
        nn.init.normal_(self.cat_fc.weight, 0.0, 0.01)
        nn.init.zeros_(self.cat_fc.bias)
        self.dense_head = FCNHead(in_channels, num_classes, dense_index, dense_channels, num_convs=1,
                                  dropout=dropout, align_corners=align_corners,
                                  loss_decode=loss_den if loss_den is not None
                                  else dict(type='SegCrossEntropyLoss', loss_weight=0.8))
        self.loss_cat = LOSSES.build(loss_cat if loss_cat is not None
                                     else dict(type='MultiLabelSoftMarginLoss', loss_weight=0.2))

    def sa_features(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """SA outputs of the selected stages, upsampled to the first one and concatenated."""
        xs = [sa(x) for sa, x in zip(self.sa_modules, self.select(feats))]
        size = xs[0].shape[-2:]
        xs = [x if x.shape[-2:] == size else
              F.interpolate(x, size=size, mode='bilinear', align_corners=self.align_corners) for x in xs]
        return torch.cat(xs, dim=1)

    def _mask(self, fused: torch.Tensor) -> torch.Tensor:
        return self.conv_seg(self.dropout(self.fuse(fused)))

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        return self._mask(self.sa_features(feats))

    def forward_all(self, feats: Sequence[torch.Tensor]) -> dict:
        fused = self.sa_features(feats)
        return {'mask': self._mask(fused),
                'cat': self.cat_fc(fused.mean(dim=(2, 3))),
                'dense': self.dense_head(feats)}

    def cat_target(self, batch: dict) -> torch.Tensor:
        """Image-level target of ``L_cat`` (module docstring)."""
        if not self.cat_include_background and batch.get('cls_label') is not None:
            return batch['cls_label'].float()
        seg = batch['seg'].long()
        ignore = getattr(self.loss_decode, 'ignore_index', 255)
        return classes_present(seg, self.num_classes, ignore)[:, 0 if self.cat_include_background else 1:]

    def loss(self, feats: Sequence[torch.Tensor], batch: dict) -> dict:
        out = self.forward_all(feats)
        seg = batch['seg']
        ignore = getattr(self.loss_decode, 'ignore_index', 255)
        return {'loss_mask': self.loss_decode(out['mask'], seg),
                'loss_cat': self.loss_cat(out['cat'], self.cat_target(batch).to(out['cat'].device)),
                'loss_den': self.dense_head.loss_decode(out['dense'], seg),
                'acc_seg': pixel_accuracy(out['mask'], seg, ignore, self.align_corners)}


def classes_present(seg: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    """(B,H,W) labels -> (B, num_classes) float 0/1: which classes occur (``ignore_index`` and values out of
    range are skipped)."""
    b = seg.shape[0]
    flat = seg.reshape(b, -1)
    flat = torch.where((flat >= 0) & (flat < num_classes) & (flat != ignore_index), flat,
                       torch.full_like(flat, num_classes))
    present = torch.zeros(b, num_classes + 1, device=seg.device).scatter_(1, flat, 1.0)
    return present[:, :num_classes]
