"""Joint augmentations for (image, saliency, segmentation) triples, driven by an explicit numpy RNG.

All randomness comes from the ``rng`` argument (see ``wsss.utils.seed.sample_rng``), so the same
(seed, epoch, index) gives the same sample on any worker, rank or after a resume.
Image: uint8 HxWx3 RGB. Saliency: uint8 HxW (0..255). Segmentation: uint8 HxW (0..20, 255 ignore).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageEnhance

def _resize(arr: Optional[np.ndarray], size_wh: tuple[int, int], resample) -> Optional[np.ndarray]:
    if arr is None:
        return None
    return np.asarray(Image.fromarray(arr).resize(size_wh, resample))


@dataclass
class AugmentConfig:
    """Standard WSSS augmentations; every field can be set from the config (``train_transforms=dict(...)``).

    - ``resize_long``: random long side in [lo, hi] (EPS/PSA ``RandomResizeLong``), or None.
    - ``scale_range``: random rescale factor, uniform in [lo, hi], or None.
    - ``scale_choices``: random rescale factor drawn from a list, e.g. (0.5, 0.75, 1.0, 1.25, 1.5) as
      kazuto1011/deeplab-pytorch (``random.choice(SCALES)``), or None. At most one of the three rescalings.
    - ``flip``: horizontal flip with p = 0.5.
    - ``color_jitter``: (brightness, contrast, saturation, hue) like torchvision ``ColorJitter``, or None.
    - ``crop_size``: random crop, or None; where the crop overhangs the image the saliency is padded with 0, the
      labels with 255 (ignore), and the returned mask marks the image's own pixels, so the image can be padded
      with the mean (zero after normalisation) as official EPS and deeplab-pytorch do.
    - ``resample``: 'bicubic' (EPS) or 'bilinear' for image and saliency; labels always nearest.
    """
    resize_long: Optional[Sequence[int]] = None
    scale_range: Optional[Sequence[float]] = None
    scale_choices: Optional[Sequence[float]] = None
    flip: bool = True
    color_jitter: Optional[Sequence[float]] = None
    crop_size: Optional[int] = None
    resample: str = 'bicubic'

    def __post_init__(self):
        given = [k for k in ('resize_long', 'scale_range', 'scale_choices') if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f'choose one rescaling, not {given}')


_RESAMPLE = {'bicubic': Image.BICUBIC, 'bilinear': Image.BILINEAR, 'nearest': Image.NEAREST}


def _color_jitter(img: np.ndarray, params: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    b, c, s, h = params
    pil = Image.fromarray(img)
    ops = rng.permutation(4)
    for op in ops:
        if op == 0 and b > 0:
            pil = ImageEnhance.Brightness(pil).enhance(rng.uniform(max(0, 1 - b), 1 + b))
        elif op == 1 and c > 0:
            pil = ImageEnhance.Contrast(pil).enhance(rng.uniform(max(0, 1 - c), 1 + c))
        elif op == 2 and s > 0:
            pil = ImageEnhance.Color(pil).enhance(rng.uniform(max(0, 1 - s), 1 + s))
        elif op == 3 and h > 0:
            hsv = np.asarray(pil.convert('HSV')).copy()
            shift = int(round(rng.uniform(-h, h) * 255))
            hsv[..., 0] = (hsv[..., 0].astype(np.int16) + shift).astype(np.uint8)
            pil = Image.fromarray(hsv, mode='HSV').convert('RGB')
    return np.asarray(pil)


def augment(img: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig,
            sal: Optional[np.ndarray] = None, seg: Optional[np.ndarray] = None):
    """Apply rescale -> flip -> colour jitter -> crop jointly; returns (img, sal, seg, valid), ``valid`` the
    (H, W) mask of the image's own pixels after a padded crop (None: no padding)."""
    resample = _RESAMPLE[cfg.resample]
    h, w = img.shape[:2]
    scale = None
    if cfg.resize_long is not None:
        target = int(rng.integers(cfg.resize_long[0], cfg.resize_long[1] + 1))  # both ends included (PSA)
        scale = target / max(h, w)
    elif cfg.scale_range is not None:
        scale = float(rng.uniform(cfg.scale_range[0], cfg.scale_range[1]))
    elif cfg.scale_choices is not None:
        scale = float(cfg.scale_choices[int(rng.integers(len(cfg.scale_choices)))])
    if scale is not None and scale != 1.0:
        size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
        img, sal = _resize(img, size, resample), _resize(sal, size, resample)
        seg = _resize(seg, size, Image.NEAREST)
    if cfg.flip and rng.random() < 0.5:
        img = img[:, ::-1]
        sal = None if sal is None else sal[:, ::-1]
        seg = None if seg is None else seg[:, ::-1]
    if cfg.color_jitter is not None:
        img = _color_jitter(np.ascontiguousarray(img), cfg.color_jitter, rng)
    valid = None
    if cfg.crop_size is not None:
        img, sal, seg, valid = random_crop(img, rng, cfg.crop_size, sal, seg)
    return (np.ascontiguousarray(img),
            None if sal is None else np.ascontiguousarray(sal),
            None if seg is None else np.ascontiguousarray(seg),
            None if valid is None or valid.all() else np.ascontiguousarray(valid))


def random_crop(img, rng, size, sal=None, seg=None):
    """Random ``size``x``size`` crop; smaller inputs are placed at a random offset in a padded canvas
    (image and saliency padded with 0, labels with 255 = ignore). Returns (img, sal, seg, valid), ``valid`` the
    bool mask of the crop's pixels that come from the image."""
    h, w = img.shape[:2]
    ch, cw = max(h, size), max(w, size)
    # offsets of the image inside the padded canvas, then of the crop inside the canvas
    oy, ox = int(rng.integers(0, ch - h + 1)), int(rng.integers(0, cw - w + 1))
    cy, cx = int(rng.integers(0, ch - size + 1)), int(rng.integers(0, cw - size + 1))

    def crop(a, fill):
        if a is None:
            return None
        canvas = np.full((ch, cw) + a.shape[2:], fill, dtype=a.dtype)
        canvas[oy:oy + h, ox:ox + w] = a
        return canvas[cy:cy + size, cx:cx + size]

    return crop(img, 0), crop(sal, 0), crop(seg, 255), crop(np.ones((h, w), bool), False)
