"""Image normalisation shared by every stage: ImageNet mean/std and min-max normalisation.

Batches are RGB, ``(x / 255 - mean) / std`` with the ImageNet statistics below (the convention of EPS, PSA,
DeepLab and InSPyReNet); backbones whose weights expect another input convert it themselves
(:class:`wsss.models.backbones.backbone_utils.InputRenorm`).
"""
from __future__ import annotations

import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: min-max normalisation epsilon (SeeNet's C-ReLU layer and InSPyReNet's post-processing: 1e-8)
MINMAX_EPS = 1e-8


def normalize(img: np.ndarray, dtype=np.float32) -> np.ndarray:
    """uint8 HxWx3 RGB -> float32 3xHxW, ``(x / 255 - mean) / std``.

    ``dtype`` is the precision of the arithmetic: float32 for training batches; float64 reproduces the
    official EPS/PSA ``infer.py`` (``Normalize`` on float64 arrays) bit for bit before the cast to float32.
    """
    x = img.astype(dtype) / 255.0
    x = (x - np.asarray(IMAGENET_MEAN, dtype)) / np.asarray(IMAGENET_STD, dtype)
    return np.ascontiguousarray(x.astype(np.float32, copy=False).transpose(2, 0, 1))


def normalize_tensor(x: torch.Tensor) -> torch.Tensor:
    """uint8 (or 0..255 float) (B, 3, h, w) -> float32 ImageNet-normalised, on ``x``'s device."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x.float() / 255.0 - mean) / std


def minmax_normalize(x: torch.Tensor, eps: float = MINMAX_EPS) -> torch.Tensor:
    """Per (image, channel) min-max normalisation over h×w: ``(x − min) / (max − min + eps)``."""
    flat = x.flatten(2)
    lo = flat.min(-1).values[..., None, None]
    hi = flat.max(-1).values[..., None, None]
    return (x - lo) / (hi - lo + eps)
