"""Dense CRF through ``pydensecrf.densecrf`` (package pydensecrf2): the C++ of Krähenbühl & Koltun, one core."""
from __future__ import annotations

import numpy as np

from .params import CRFParams


def dense_crf_pydensecrf(image: np.ndarray, unary: np.ndarray, params: CRFParams) -> np.ndarray:
    """Marginals ``(K, H, W)`` float32; ``image`` uint8 C-contiguous ``(H, W, 3)``, ``unary`` float32 ``(K, H·W)``."""
    import pydensecrf.densecrf as dcrf

    k = unary.shape[0]
    h, w = image.shape[:2]
    d = dcrf.DenseCRF2D(w, h, k)
    d.setUnaryEnergy(unary)
    d.addPairwiseGaussian(sxy=params.pos_xy_std, compat=params.pos_w)
    d.addPairwiseBilateral(sxy=params.bi_xy_std, srgb=params.bi_rgb_std, rgbim=image, compat=params.bi_w)
    q = d.inference(int(params.iterations))
    return np.asarray(q, dtype=np.float32).reshape(k, h, w)
