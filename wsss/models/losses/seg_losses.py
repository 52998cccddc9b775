"""Losses of the segmenters (registered in ``LOSSES``).

* :class:`SegCrossEntropyLoss` -- per-pixel softmax cross-entropy with ``ignore_index`` (255 = VOC border /
  padding). Logits at feature resolution are **bilinearly upsampled to the label size** (``align_corners=False``)
  before the loss, as mmsegmentation does. (kazuto1011/deeplab-pytorch instead shrinks the *labels* to the
  logit size with PIL's nearest resampling, ``resize_labels`` in its ``main.py``; ``resize='labels'`` reproduces
  that.) The mean is over the non-ignored pixels of the whole batch; a batch whose pixels are all ignored gives
  ``0`` (with a graph), never NaN.

Every loss multiplies its value by ``loss_weight``; that is where a method's weights (e.g. SANet's alpha/beta)
live in the configs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.registry import LOSSES


def pil_nearest_index(n_in: int, n_out: int) -> list[int]:
    """Source index of each output pixel in PIL's ``Image.NEAREST`` resize: pixel centres, with the sample
    position accumulated step by step in double precision as Pillow's affine transform does (so its rounding at
    exact half-way points is reproduced; torch's 'nearest-exact' differs there, e.g. 64 -> 6)."""
    step = n_in / n_out
    x, idx = step * 0.5, []
    for _ in range(n_out):
        idx.append(min(int(x), n_in - 1))
        x += step
    return idx


def shrink_labels(labels: torch.Tensor, size) -> torch.Tensor:
    """(B, H, W) integer labels -> (B, h, w), nearest at pixel centres exactly as PIL's ``Image.NEAREST``."""
    h, w = (int(v) for v in size)
    iy = torch.tensor(pil_nearest_index(labels.shape[-2], h), device=labels.device)
    ix = torch.tensor(pil_nearest_index(labels.shape[-1], w), device=labels.device)
    return labels.long()[:, iy][:, :, ix]


def resize_logits_or_labels(logits: torch.Tensor, labels: torch.Tensor, resize: str = 'logits',
                            align_corners: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Bring ``logits`` (B,C,h,w) and ``labels`` (B,H,W) to one size.

    ``resize='logits'``: bilinear upsampling of the logits to (H, W). ``resize='labels'``: nearest downsampling of
    the labels to (h, w), sampling at pixel centres exactly as PIL's ``Image.NEAREST`` does in kazuto1011/
    deeplab-pytorch (:func:`shrink_labels`; torch's plain ``'nearest'`` samples the top-left corner and shifts the
    labels).
    """
    if logits.shape[-2:] == labels.shape[-2:]:
        return logits, labels
    if resize == 'logits':
        logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear', align_corners=align_corners)
    elif resize == 'labels':
        labels = shrink_labels(labels, logits.shape[-2:])
    else:
        raise ValueError(f"resize must be 'logits' or 'labels', got {resize!r}")
    return logits, labels


@LOSSES.register_module()
class SegCrossEntropyLoss(nn.Module):
    """Per-pixel cross-entropy; ``forward(logits (B,C,h,w), labels (B,H,W) int64) -> scalar``.

    ``L = loss_weight * sum_{valid p} CE(logits_p, y_p) / max(#valid, 1)`` with valid = ``y != ignore_index``.
    """

    def __init__(self, ignore_index: int = 255, loss_weight: float = 1.0, resize: str = 'logits',
                 align_corners: bool = False):
        super().__init__()
        if resize not in ('logits', 'labels'):
            raise ValueError(f"resize must be 'logits' or 'labels', got {resize!r}")
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self.resize = resize
        self.align_corners = align_corners

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits, labels = resize_logits_or_labels(logits, labels.long(), self.resize, self.align_corners)
        total = F.cross_entropy(logits.float(), labels, ignore_index=self.ignore_index, reduction='sum')
        valid = (labels != self.ignore_index).sum().clamp(min=1)
        return self.loss_weight * total / valid

    def extra_repr(self) -> str:
        return (f'ignore_index={self.ignore_index}, loss_weight={self.loss_weight}, '
                f'resize={self.resize!r}')
