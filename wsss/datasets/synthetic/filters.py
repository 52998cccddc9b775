"""Image filters of the renderer, from :mod:`scipy.ndimage`: the Gaussian blur (images and simulated
saliency maps) and the boundary ignore band of the label maps."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def gauss_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an (H, W) or (H, W, C) array over H and W (channels apart), float32 out.

    Kernel cut at radius ceil(3 sigma) (at least 1 px); the border is mirrored without repeating the edge
    pixel (scipy mode 'mirror', numpy pad mode 'reflect'). ``a`` itself when ``sigma <= 0``.
    """
    if sigma <= 0:
        return a
    r = max(1, int(np.ceil(3 * sigma)))
    sigmas = (sigma, sigma) + (0,) * (a.ndim - 2)  # 0: that axis is not filtered
    # scipy's radius is int(truncate * sigma + 0.5) = r (its radius= argument needs scipy >= 1.10)
    return ndimage.gaussian_filter(np.asarray(a, dtype=np.float32), sigmas, mode='mirror', truncate=r / sigma)


def boundary_band(inst: np.ndarray, radius: int) -> np.ndarray:
    """Pixels having, within Chebyshev distance ``radius``, a pixel of another instance (0 = background).

    The (2 radius + 1)^2 window holds another value iff its maximum and minimum differ (exact for integer
    maps); the border repeats the edge pixel (mode 'nearest').
    """
    size = 2 * radius + 1
    return (ndimage.maximum_filter(inst, size=size, mode='nearest')
            != ndimage.minimum_filter(inst, size=size, mode='nearest'))
