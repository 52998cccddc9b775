"""Fully connected CRF (Krähenbühl & Koltun) over ``pydensecrf.densecrf`` (package pydensecrf2).

Two presets, from the official code of the papers we reproduce:

* ``CRFParams.deeplab_v2()``: kazuto1011/deeplab-pytorch ``configs/voc12.yaml`` -- 10 iterations,
  Gaussian (pos) kernel w=3, xy std 1; bilateral kernel w=4, xy std 67, rgb std 3.
  These are the values EPS reports for its DeepLab-v2 results.
* ``CRFParams.psa()``: psa / EPS ``util/imutils.crf_inference`` -- ``addPairwiseGaussian(sxy=3,
  compat=3)``, ``addPairwiseBilateral(sxy=80, srgb=13, compat=10)``, 10 iterations.

The unary is ``-log(clip(p, clip, 1))`` exactly as ``pydensecrf.utils.unary_from_softmax``
(clip 1e-5). ``compat`` is a scalar weight (Potts model), as in both reference codes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ['CRFParams', 'dense_crf', 'crf_labels']


@dataclass(frozen=True)
class CRFParams:
    """Dense-CRF hyper-parameters (names follow deeplab-pytorch's config)."""
    iterations: int = 10
    pos_w: float = 3.0        # compat of the Gaussian (smoothness) kernel
    pos_xy_std: float = 1.0   # sxy of the Gaussian kernel
    bi_w: float = 4.0         # compat of the bilateral (appearance) kernel
    bi_xy_std: float = 67.0   # sxy of the bilateral kernel
    bi_rgb_std: float = 3.0   # srgb of the bilateral kernel
    clip: float = 1e-5        # probabilities are clipped to [clip, 1] before -log

    @classmethod
    def deeplab_v2(cls) -> 'CRFParams':
        """kazuto1011/deeplab-pytorch VOC12 (the DeepLab-v2 setting reported by EPS)."""
        return cls(iterations=10, pos_w=3, pos_xy_std=1, bi_w=4, bi_xy_std=67, bi_rgb_std=3)

    @classmethod
    def psa(cls) -> 'CRFParams':
        """psa / EPS ``crf_inference`` (used for CAM pseudo-label refinement)."""
        return cls(iterations=10, pos_w=3, pos_xy_std=3, bi_w=10, bi_xy_std=80, bi_rgb_std=13)


def _check_inputs(image: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    probs = np.asarray(probs)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be (H, W, 3), got {image.shape}')
    if image.dtype != np.uint8:
        raise ValueError(f'image must be uint8 RGB, got {image.dtype}')
    if probs.ndim != 3 or probs.shape[1:] != image.shape[:2]:
        raise ValueError(f'probs must be (K, H, W) with H, W = {image.shape[:2]}, got {probs.shape}')
    # pydensecrf needs a writable C-contiguous buffer (PIL-backed arrays are read-only)
    return np.array(image, dtype=np.uint8, order="C", copy=True), probs


def dense_crf(image: np.ndarray, probs: np.ndarray, params: CRFParams | None = None) -> np.ndarray:
    """Mean-field dense-CRF inference.

    Args:
        image: uint8 ``(H, W, 3)`` RGB image.
        probs: float ``(K, H, W)`` class probabilities (each pixel should sum to 1).
        params: ``CRFParams`` (default ``CRFParams.deeplab_v2()``).

    Returns:
        float32 ``(K, H, W)`` refined marginals (sum to 1 over K).
    """
    import pydensecrf.densecrf as dcrf

    params = params or CRFParams.deeplab_v2()
    image, probs = _check_inputs(image, probs)
    k, h, w = probs.shape
    if k == 1:
        return np.ones((1, h, w), dtype=np.float32)
    p = np.clip(probs.astype(np.float32), params.clip, 1.0)
    unary = np.ascontiguousarray(-np.log(p).reshape(k, -1), dtype=np.float32)
    d = dcrf.DenseCRF2D(w, h, k)
    d.setUnaryEnergy(unary)
    d.addPairwiseGaussian(sxy=params.pos_xy_std, compat=params.pos_w)
    d.addPairwiseBilateral(sxy=params.bi_xy_std, srgb=params.bi_rgb_std, rgbim=image, compat=params.bi_w)
    q = d.inference(int(params.iterations))
    return np.asarray(q, dtype=np.float32).reshape(k, h, w)


def crf_labels(image: np.ndarray, probs: np.ndarray, labels_of_channels: Sequence[int] | np.ndarray,
               params: CRFParams | None = None) -> np.ndarray:
    """Dense CRF, then argmax mapped back to label ids.

    ``labels_of_channels[i]`` is the label id of channel ``i`` (e.g. ``[0, 3, 15]`` for
    background + the image's present classes). Returns uint8 ``(H, W)``.
    """
    lut = np.asarray(labels_of_channels, dtype=np.int64)
    if lut.ndim != 1 or lut.shape[0] != np.asarray(probs).shape[0]:
        raise ValueError(f'labels_of_channels has {lut.shape} entries for {np.asarray(probs).shape[0]} channels')
    if lut.min() < 0 or lut.max() > 255:
        raise ValueError('label ids must be in 0..255')
    q = dense_crf(image, probs, params)
    return lut[q.argmax(axis=0)].astype(np.uint8)
