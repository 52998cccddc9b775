"""Gaussian image pyramid and transition (morphological gradient) maps of InSPyReNet.

Paper (Kim et al., ACCV 2022, Sec. 3.1-3.3):

- REDUCE:  G^j(x, y) = sum_{m,n=-3..3} g(m, n) G^{j-1}(2x + m, 2y + n)
- EXPAND:  S_e^j(x, y) = 4 sum_{m,n=-3..3} g(m, n) S^{j+1}((x - m) / 2, (y - n) / 2)   (only integer positions)
- reconstruction:  S^j = EXPAND(S^{j+1}) + U^j   (U^j: Laplacian saliency map predicted by SICA)

``g`` is the 7x7 Gaussian with sigma 1 (outer product of OpenCV's ``getGaussianKernel(7, 1)`` taps).
Borders are reflect-padded by 3 pixels. EXPAND inserts zeros between samples and filters with ``4 g``.

The transition map used by pyramid blending is ``(dilate(sigmoid(d)) - erode(sigmoid(d))) > 0.5`` with an
elliptic structuring element (OpenCV ``MORPH_ELLIPSE``); pixels outside the image are ignored by the max/min
(the "geodesic" border of kornia). Dilation is computed exactly as a max of row-wise 1-D max-pools, one per
row of the ellipse.

The kernels are non-persistent buffers: they follow ``.to()`` but are not in the state_dict, so the official
checkpoints (which do not carry them) load with ``strict=True``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def gaussian_taps(ksize: int = 7, sigma: float = 1.0) -> np.ndarray:
    """1-D Gaussian taps, float64, summing to 1 (same values as ``cv2.getGaussianKernel(ksize, sigma)``
    for ``sigma > 0``)."""
    x = np.arange(ksize, dtype=np.float64) - (ksize - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def gaussian_kernel2d(ksize: int = 7, sigma: float = 1.0) -> torch.Tensor:
    """(1, 1, k, k) float32 kernel: outer product of the taps in float64, then cast."""
    g = gaussian_taps(ksize, sigma)
    return torch.from_numpy(np.outer(g, g)).float()[None, None]


def ellipse_element(k: int) -> np.ndarray:
    """(k, k) uint8 elliptic structuring element, same rule as OpenCV ``getStructuringElement(MORPH_ELLIPSE)``:
    row ``i`` is set on ``[c - dx, c + dx]`` with ``dx = round(c * sqrt(r^2 - (i - r)^2) / r)``, ``r = c = k // 2``."""
    r = c = k // 2
    se = np.zeros((k, k), np.uint8)
    for i in range(k):
        dy = i - r
        if abs(dy) > r:
            continue
        dx = int(np.rint(c * math.sqrt((r * r - dy * dy) / (r * r)))) if r else 0
        se[i, max(c - dx, 0):min(c + dx + 1, k)] = 1
    return se


class ImagePyramid(nn.Module):
    """Gaussian pyramid operators on (B, C, H, W) maps (C = 1 in InSPyReNet)."""

    def __init__(self, ksize: int = 7, sigma: float = 1.0):
        super().__init__()
        self.ksize, self.sigma, self.pad = ksize, sigma, ksize // 2
        self.register_buffer('kernel', gaussian_kernel2d(ksize, sigma), persistent=False)

    def _filter(self, x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        c = x.shape[1]
        k = (self.kernel * scale).to(dtype=x.dtype).expand(c, 1, self.ksize, self.ksize)
        return F.conv2d(F.pad(x, (self.pad,) * 4, mode='reflect'), k, groups=c)

    def reduce(self, x: torch.Tensor) -> torch.Tensor:
        """Blur then keep every second pixel: (H, W) -> (ceil(H/2), ceil(W/2))."""
        return self._filter(x)[:, :, ::2, ::2]

    def expand(self, x: torch.Tensor) -> torch.Tensor:
        """Zero-insertion upsampling (samples at even positions) filtered with 4 g: (H, W) -> (2H, 2W)."""
        b, c, h, w = x.shape
        up = x.new_zeros(b, c, 2 * h, 2 * w)
        up[:, :, ::2, ::2] = x
        return self._filter(up, 4.0)

    def reconstruct(self, x: torch.Tensor, laplacian: torch.Tensor) -> torch.Tensor:
        """``expand(x) + laplacian``; the Laplacian is bilinearly resized (align_corners=True) to the expanded
        size when the sizes differ (odd feature sizes), as the official code does."""
        e = self.expand(x)
        if laplacian.shape[-2:] != e.shape[-2:]:
            laplacian = F.interpolate(laplacian, size=e.shape[-2:], mode='bilinear', align_corners=True)
        return e + laplacian

    def deconstruct(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One Laplacian level: ``(reduce(x), x - expand(reduce(x)))`` (expanded map cropped/resized to x)."""
        r = self.reduce(x)
        e = self.expand(r)
        if e.shape[-2:] != x.shape[-2:]:
            e = F.interpolate(e, size=x.shape[-2:], mode='nearest')
        return r, x - e


def _dilate(x: torch.Tensor, se: np.ndarray) -> torch.Tensor:
    """Grey dilation by a symmetric flat element; outside pixels are ignored (geodesic border)."""
    k = se.shape[0]
    r = k // 2
    out = None
    h = x.shape[-2]
    cache: dict[int, torch.Tensor] = {}
    for i in range(k):
        cols = np.nonzero(se[i])[0]
        if cols.size == 0:
            continue
        half = int(cols.max()) - r  # rows of an ellipse are centred
        if half not in cache:
            m = F.max_pool2d(x, (1, 2 * half + 1), stride=1, padding=(0, half)) if half > 0 else x
            cache[half] = F.pad(m, (0, 0, r, r), value=float('-inf'))
        shifted = cache[half][..., i:i + h, :]  # row offset dy = i - r
        out = shifted if out is None else torch.maximum(out, shifted)
    return out


class Transition(nn.Module):
    """Transition (boundary) region of a saliency logit map: ``(dilate(s) - erode(s)) > 0.5``, s = sigmoid."""

    def __init__(self, k: int = 3):
        super().__init__()
        self.k = k
        self._se = ellipse_element(k)  # host copy drives the shifts; the buffer documents the element
        self.register_buffer('kernel', torch.from_numpy(self._se).float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(x.float())
        dil = _dilate(s, self._se)
        ero = -_dilate(-s, self._se)
        return ((dil - ero) > 0.5).to(x.dtype)
