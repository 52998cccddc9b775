"""Fully connected CRF (Krähenbühl & Koltun, NIPS 2011), two backends behind one function.

* ``'pydensecrf'``: ``pydensecrf.densecrf`` (package pydensecrf2), the authors' C++ on one CPU core
  (:mod:`wsss.crf.backend_pydensecrf`);
* ``'torch'``: the same mean field and permutohedral lattice in PyTorch tensor ops, CPU or CUDA, no compiled
  extension (:mod:`wsss.crf.backend_torch`, :mod:`wsss.crf.lattice`), equal to pydensecrf up to float32
  rounding (``tests/test_crf.py`` states the measured tolerance).

``CRFParams.backend`` (or the ``backend=`` argument) picks one; ``'auto'`` follows the device: torch on CUDA,
pydensecrf otherwise. Where image-level labels are known (pseudo-labels) callers pass only background + the
present classes (:func:`crf_labels` maps the channels back), for either backend.

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

from typing import Optional, Sequence

import numpy as np
import torch

from .backend_pydensecrf import dense_crf_pydensecrf
from .backend_torch import dense_crf_torch_many
from .params import BACKENDS, CRFParams

__all__ = ['BACKENDS', 'CRFParams', 'dense_crf', 'dense_crf_many', 'crf_labels', 'resolve_backend']


def resolve_backend(backend: Optional[str], device: torch.device | str | None = None) -> str:
    """``'pydensecrf'`` or ``'torch'``: ``backend`` unless ``'auto'``/None, then torch on CUDA, pydensecrf else."""
    backend = backend or 'auto'
    if backend not in BACKENDS:
        raise ValueError(f'CRF backend must be one of {BACKENDS}, got {backend!r}')
    if backend != 'auto':
        return backend
    return 'torch' if device is not None and torch.device(device).type == 'cuda' else 'pydensecrf'


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


def dense_crf(image: np.ndarray, probs: np.ndarray, params: CRFParams | None = None,
              backend: Optional[str] = None, device: torch.device | str | None = None) -> np.ndarray:
    """Mean-field dense-CRF inference.

    Args:
        image: uint8 ``(H, W, 3)`` RGB image.
        probs: float ``(K, H, W)`` class probabilities (each pixel should sum to 1).
        params: ``CRFParams`` (default ``CRFParams.deeplab_v2()``).
        backend: overrides ``params.backend`` (``'auto'``, ``'pydensecrf'``, ``'torch'``).
        device: where the torch backend runs (default CPU); ``'auto'`` picks torch on a CUDA device.

    Returns:
        float32 ``(K, H, W)`` refined marginals (sum to 1 over K).
    """
    return dense_crf_many([image], [probs], params, backend, device)[0]


def dense_crf_many(images: Sequence[np.ndarray], probs: Sequence[np.ndarray], params: CRFParams | None = None,
                   backend: Optional[str] = None, device: torch.device | str | None = None) -> list[np.ndarray]:
    """:func:`dense_crf` of several images (same K, any sizes): the torch backend builds one lattice per kernel
    for all of them (the image index as one more key) and filters them in one call; pydensecrf runs one by one."""
    params = params or CRFParams.deeplab_v2()
    checked = [_check_inputs(i, p) for i, p in zip(images, probs)]
    if len(checked) != len(images) or len(images) != len(probs) or not checked:
        raise ValueError(f'{len(images)} images for {len(probs)} probability maps')
    if any(p.shape[0] == 1 for _, p in checked):
        if len(checked) > 1:
            raise ValueError('one label only: call dense_crf per image')
        return [np.ones(checked[0][1].shape, dtype=np.float32)]
    unaries = []
    for _, p in checked:   # -log(clip(p)): pydensecrf.utils.unary_from_softmax
        p = np.clip(p.astype(np.float32), params.clip, 1.0)
        unaries.append(np.ascontiguousarray(-np.log(p).reshape(p.shape[0], -1), dtype=np.float32))
    if resolve_backend(backend if backend is not None else params.backend, device) == 'torch':
        return dense_crf_torch_many([i for i, _ in checked], unaries, params,
                                    device if device is not None else 'cpu')
    return [dense_crf_pydensecrf(i, u, params) for (i, _), u in zip(checked, unaries)]


def crf_labels(image: np.ndarray, probs: np.ndarray, labels_of_channels: Sequence[int] | np.ndarray,
               params: CRFParams | None = None, backend: Optional[str] = None,
               device: torch.device | str | None = None) -> np.ndarray:
    """Dense CRF (:func:`dense_crf`, same ``backend`` / ``device``), then argmax mapped back to label ids.

    ``labels_of_channels[i]`` is the label id of channel ``i`` (e.g. ``[0, 3, 15]`` for
    background + the image's present classes). Returns uint8 ``(H, W)``.
    """
    lut = np.asarray(labels_of_channels, dtype=np.int64)
    if lut.ndim != 1 or lut.shape[0] != np.asarray(probs).shape[0]:
        raise ValueError(f'labels_of_channels has {lut.shape} entries for {np.asarray(probs).shape[0]} channels')
    if lut.min() < 0 or lut.max() > 255:
        raise ValueError('label ids must be in 0..255')
    q = dense_crf(image, probs, params, backend, device)
    return lut[q.argmax(axis=0)].astype(np.uint8)
