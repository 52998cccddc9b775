"""BiRefNet training loss (Zheng et al., CAAI AIR 2024; official ``loss.py`` ``PixLoss`` + ``train.py``).

    L = sum_{o in (m4, m3, m2, p1)} [ 30 BCE(s_o, G) + 0.5 IoU(s_o, G) + 10 SSIM_loss(s_o, G) (+ mae L1(s_o, G)) ]
        + 1.0 * sum_{k in (4, 3, 2)} BCE(sigmoid(up(gdt_pred_k)), sigmoid(gdt_label_k))

- ``s_o = sigmoid(up(o))``: every output is resized to the GT size (bilinear, align_corners=True), then passed
  through a sigmoid; ``G`` is the GT clamped to [0, 1] (official ``train.py``). BCE is ``nn.BCELoss`` on
  probabilities (mean).
- IoU loss (official ``IoULoss``): ``sum_b (1 - sum(p G) / (sum(G) + sum(p) - sum(p G)))``, **summed over the
  batch, not averaged** (as the official code; so its weight grows with the batch size).
- SSIM loss (official ``SSIMLoss``): ``1 - (1 + SSIM) / 2``; SSIM with an 11x11 Gaussian window, sigma 1.5, zero
  padding of 5 (``F.conv2d(padding=5)``), C1 = 0.01², C2 = 0.03², mean over all pixels.
- Outward reference (gradient) loss: ``gdt_label_k = laplacian_5(mean_c(img)) * up(m_k)`` with ``m_k`` the mask
  *logits* of level k, not detached (as the official decoder, so this loss also trains ``m_k`` through the
  label); predictions are resized to the label size, both sides pass through a sigmoid, ``nn.BCELoss``; the three
  levels are summed with weight 1. ``laplacian_5`` is kornia's ``laplacian(x, 5)``: 5x5 kernel of ones with
  -24 at the centre, divided by the sum of its absolute values (48), reflect border.

Default weights are the official DIS5K / HRSOD / COD ``lambdas_pix_last`` (bce 30, iou 0.5, ssim 10, mae 0); the
General config adds mae 100. Not implemented: the official fine-tune phase that rescales the weights over the
last epochs (an epoch-based schedule of ``train.py``).

Returns ``{'loss_bce', 'loss_iou', 'loss_ssim', ('loss_mae',) 'loss_gdt'}`` (terms with weight 0 are left out,
like the official ``PixLoss`` builds only the criteria with non-zero weights), each summed over the outputs.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from wsss.registry import LOSSES

SSIM_C1 = 0.01 ** 2  # official _ssim: C1 = (0.01 L)^2, L = 1
SSIM_C2 = 0.03 ** 2  # official _ssim: C2 = (0.03 L)^2


def laplacian_kernel(size: int = 5, dtype=torch.float32, device=None) -> torch.Tensor:
    """kornia ``get_laplacian_kernel2d`` + ``normalize_kernel2d``: ones, centre ``1 - size²``, / sum(|k|)."""
    k = torch.ones(size, size, dtype=torch.float64)
    k[size // 2, size // 2] = 1 - size * size
    return (k / k.abs().sum()).to(device=device, dtype=dtype)


def laplacian(x: torch.Tensor, size: int = 5) -> torch.Tensor:
    """kornia ``filters.laplacian(x, size)`` (normalised kernel, 'reflect' border), per channel."""
    c = x.shape[1]
    k = laplacian_kernel(size, x.dtype, x.device).expand(c, 1, size, size)
    return F.conv2d(F.pad(x, [size // 2] * 4, mode='reflect'), k, groups=c)


def image_gradient(img: torch.Tensor) -> torch.Tensor:
    """Gradient reference of the outward reference (official ``forward_ori``): ``laplacian(mean_c(img), 5)``."""
    return laplacian(img.mean(dim=1, keepdim=True), 5)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """(size, size) Gaussian window of the official ``create_window``: outer product of normalised 1-D taps
    ``exp(-(x - size//2)² / (2 sigma²))``."""
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(a: torch.Tensor, b: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of (B, C, H, W) maps (official ``_ssim``): Gaussian local statistics, zero padding."""
    c, size = a.shape[1], window.shape[-1]
    w = window.to(a).expand(c, 1, size, size)

    def blur(t):
        return F.conv2d(t, w, padding=size // 2, groups=c)
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + SSIM_C1) * (2 * cov + SSIM_C2)) / \
        ((mu_a ** 2 + mu_b ** 2 + SSIM_C1) * (var_a + var_b + SSIM_C2))  # Wang et al. 2004, Eq. (13)
    return s.mean()


def iou_loss(p: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Official ``IoULoss``: ``sum_b (1 - IoU_b)`` over the batch (not averaged), soft IoU per image."""
    inter = (p * g).flatten(1).sum(1)
    union = g.flatten(1).sum(1) + p.flatten(1).sum(1) - inter
    return (1 - inter / union).sum()


def float32_inputs(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Probability-space losses are not autocast-safe: compute them in float32 (float64 stays float64)."""
    return [t if t.dtype == torch.float64 else t.float() for t in tensors]


@LOSSES.register_module()
class BiRefNetLoss(nn.Module):
    """BiRefNet loss (module docstring). Weights: ``bce``, ``iou``, ``ssim``, ``mae`` (pixel terms, applied to every
    saliency output) and ``gdt`` (outward-reference gradient term)."""

    def __init__(self, bce: float = 30.0, iou: float = 0.5, ssim: float = 10.0, mae: float = 0.0,
                 gdt: float = 1.0, ssim_window: int = 11, ssim_sigma: float = 1.5):
        super().__init__()
        self.weights = {'bce': bce, 'iou': iou, 'ssim': ssim, 'mae': mae}
        self.gdt_weight = gdt
        self.register_buffer('window', gaussian_window(ssim_window, ssim_sigma), persistent=False)

    def pixel_terms(self, p: torch.Tensor, g: torch.Tensor) -> dict[str, torch.Tensor]:
        """Unweighted pixel losses of probabilities ``p`` against ``g``."""
        fns = {'bce': F.binary_cross_entropy, 'iou': iou_loss, 'mae': F.l1_loss,
               'ssim': lambda a, b: 1 - (1 + ssim(a, b, self.window)) / 2}  # official SSIMLoss
        return {k: fns[k](p, g) for k, w in self.weights.items() if w}

    def forward(self, saliency: Sequence[torch.Tensor], gt: torch.Tensor,
                gdt_pred: Sequence[torch.Tensor] = (), gdt_label: Sequence[torch.Tensor] = ()) -> dict:
        with torch.autocast(device_type=gt.device.type, enabled=False):
            gt, *saliency = float32_inputs(gt, *saliency)
            gt = gt.clamp(0, 1)
            out: dict[str, torch.Tensor] = {}
            for s in saliency:
                if s.shape[-2:] != gt.shape[-2:]:
                    s = F.interpolate(s, size=gt.shape[-2:], mode='bilinear', align_corners=True)
                for k, v in self.pixel_terms(torch.sigmoid(s), gt).items():
                    out[f'loss_{k}'] = out.get(f'loss_{k}', 0) + self.weights[k] * v
            if self.gdt_weight and len(gdt_pred):
                total = 0
                for pred, label in zip(float32_inputs(*gdt_pred), float32_inputs(*gdt_label)):
                    pred = F.interpolate(pred, size=label.shape[-2:], mode='bilinear', align_corners=True)
                    total = total + F.binary_cross_entropy(torch.sigmoid(pred), torch.sigmoid(label))
                out['loss_gdt'] = self.gdt_weight * total
        return out
