"""Image filters of the renderer: the Gaussian blur (images and simulated saliency maps) and the boundary
ignore band of the label maps."""
from __future__ import annotations

import numpy as np


def gauss_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an (H, W) or (H, W, C) float array, reflect padding (numpy only)."""
    if sigma <= 0:
        return a
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1, dtype=np.float32) / sigma) ** 2)
    k /= k.sum()
    out = a.astype(np.float32)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode='reflect')
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for j in range(2 * r + 1):
            acc += k[j] * np.take(p, np.arange(j, j + n), axis=axis)
        out = acc
    return out


def boundary_band(inst: np.ndarray, radius: int) -> np.ndarray:
    """Pixels having, within Chebyshev distance ``radius``, a pixel of another instance (0 = background)."""
    h, w = inst.shape
    p = np.pad(inst, radius, mode='edge')
    band = np.zeros((h, w), dtype=bool)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy or dx:
                band |= p[radius + dy:radius + dy + h, radius + dx:radius + dx + w] != inst
    return band

