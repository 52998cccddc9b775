"""EPS saliency loss (explicit pseudo-pixel supervision).

Lee, Kim, Shim. *Railroad is not a Train: Saliency as Pseudo-pixel Supervision for Weakly Supervised
Semantic Segmentation*, CVPR 2021 (arXiv 2105.08965). Official code: ``halbielee/EPS`` ``eps.py``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from wsss.registry import LOSSES

#: per-pixel smoothing term of the official overlap ratio (added to every pixel before the sum)
OVERLAP_EPS = 1e-4


def eps_overlap_ratio(probs_fg: torch.Tensor, sal: torch.Tensor) -> torch.Tensor:
    """Overlap ratio O_k of each foreground map with the saliency map (official ``iou_saliency``).

    ``O_k = Σ_xy round(p_k) · round(S) / Σ_xy (round(p_k) + 1e-4)``, i.e. ``|M_k ∧ M_s| / (|M_k| + 1e-4·h·w)``.
    A precision-like ratio (not an IoU despite the official name). ``round`` is half-to-even, as torch.

    **Deviation** (official code vs. the paper/notes): the ``1e-4`` is added to *every pixel* before summing,
    so the denominator is ``|M_k| + 1e-4·h·w`` (not ``|M_k| + 1e-4``). We reproduce the code.

    Args:
        probs_fg: (B, C, h, w) softmax probabilities of the C foreground channels (detached here).
        sal: (B, 1, h, w) saliency in [0, 1] at the same resolution.
    Returns:
        (B, C) overlap ratios.
    """
    m_k = torch.round(probs_fg.detach())                                   # M_k
    m_s = torch.round(sal)                                                 # M_s
    inter = (m_k * m_s).flatten(2).sum(-1)                                 # |M_k ∧ M_s|
    denom = (m_k + OVERLAP_EPS).flatten(2).sum(-1)                         # |M_k| + 1e-4·h·w
    return inter / denom


def eps_saliency_loss(probs: torch.Tensor, saliency: torch.Tensor, label: torch.Tensor,
                      tau: float = 0.4, lam: float = 0.5, return_intermediates: bool = False):
    """EPS saliency loss from the (C+1)-way class probabilities (background = last channel).

    Paper eq. (1)-(2) as the official code computes them::

        p      = softmax(cam) over C+1 channels, shape (B, C+1, h, w)
        S      = saliency resized to (h, w) with *nearest* interpolation
        O_k    = overlap ratio of round(p_k) with round(S)                          (k < C, detached)
        FG     = {k : y_k = 1 and O_k > τ}
        BG     = {C (background channel)} ∪ {k : y_k = 1 and O_k ≤ τ}               (absent classes: neither)
        Ŝ      = λ · Σ_{k∈FG} p_k + (1 − λ) · (1 − Σ_{k∈BG} p_k)                   eq. (1)
        L_sal  = mean_{b,h,w} (Ŝ − S)²                                            eq. (2), F.mse_loss

    Symbols: y (B, C) image labels; τ overlap threshold (VOC 0.4, COCO 0.4); λ fg/bg blending ratio
    (VOC 0.5, COCO 0.9) — λ is not a loss weight.

    **Deviation** (official-code details the paper does not state; we follow the code): the loss regresses
    the *continuous* saliency map (it is rounded only inside the overlap test), the overlap test is a
    precision-like ratio with a strict ``> τ``, the ratio's ``1e-4`` is added per pixel (see
    :func:`eps_overlap_ratio`), and absent classes are in neither set (``halbielee/EPS@0c2cdd0``
    ``eps.py::get_eps_loss``).

    Args:
        probs: (B, C+1, h, w) probabilities (softmax over C+1; any distribution over C+1 works).
        saliency: (B, 1, H, W) in [0, 1], resized here to (h, w) with nearest.
        label: (B, C) 0/1 image-level labels.
    Returns:
        the scalar loss, or ``(loss, fg_map, one_minus_bg_map, sal_pred)`` if ``return_intermediates``.
    """
    b, c1, h, w = probs.shape
    c = c1 - 1
    sal = F.interpolate(saliency.to(probs.dtype), size=(h, w), mode='nearest')   # S at CAM resolution
    present = label.to(probs.dtype).view(b, c) > 0.5                               # y_k = 1
    valid = eps_overlap_ratio(probs[:, :c], sal) > tau                               # O_k > τ
    in_fg = (present & valid).to(probs.dtype)                                        # k ∈ FG
    in_bg = torch.cat([(present & ~valid).to(probs.dtype),                           # k ∈ BG (present, O_k ≤ τ)
                       probs.new_ones(b, 1)], dim=1)                                 # + background channel C
    fg = (probs[:, :c] * in_fg[:, :, None, None]).sum(1, keepdim=True)              # Σ_{k∈FG} p_k
    bg = (probs * in_bg[:, :, None, None]).sum(1, keepdim=True)                     # Σ_{k∈BG} p_k
    sal_pred = lam * fg + (1.0 - lam) * (1.0 - bg)                                   # eq. (1)
    loss = F.mse_loss(sal_pred, sal)                                                 # eq. (2)
    if return_intermediates:
        return loss, fg, 1.0 - bg, sal_pred
    return loss


@LOSSES.register_module()
class EPSSaliencyLoss(nn.Module):
    """EPS saliency loss module (see :func:`eps_saliency_loss`).

    ``forward(cam, saliency, label)`` takes the raw (B, C+1, h, w) CAM logits (background last) and applies the
    softmax over C+1 itself, as the official code; :meth:`from_probs` takes probabilities directly.

    Args:
        tau: overlap threshold τ (official VOC run: 0.4; argparse default 0.5).
        lam: blending ratio λ (VOC 0.5, COCO 0.9).
        loss_weight: multiplier (official: 1, the total loss is ``L_cls + L_sal``).
    """

    def __init__(self, tau: float = 0.4, lam: float = 0.5, loss_weight: float = 1.0):
        super().__init__()
        self.tau, self.lam, self.loss_weight = tau, lam, loss_weight

    def forward(self, cam: torch.Tensor, saliency: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.from_probs(F.softmax(cam, dim=1), saliency, label)

    def from_probs(self, probs: torch.Tensor, saliency: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * eps_saliency_loss(probs, saliency, label, self.tau, self.lam)

    def extra_repr(self) -> str:
        return f'tau={self.tau}, lam={self.lam}, loss_weight={self.loss_weight}'
