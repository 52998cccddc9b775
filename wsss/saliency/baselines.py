"""Trivial saliency baselines, to show that a trained model beats them."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image

from wsss.utils.io import save_gray_png


def centre_blob(h: int, w: int, sigma: float = 0.25) -> np.ndarray:
    """uint8 (h, w) Gaussian blob centred in the image, std ``sigma`` x the side (the centre-bias prior)."""
    y = (np.arange(h) + 0.5) / h - 0.5
    x = (np.arange(w) + 0.5) / w - 0.5
    g = np.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma ** 2))
    return np.round(255 * g / g.max()).astype(np.uint8)


def write_centre_blob_maps(gt_dir: str | Path, names: Iterable[str], out_dir: str | Path) -> Path:
    """One centre-blob map per ground-truth file, at its size, into ``out_dir``."""
    out_dir = Path(out_dir)
    for n in names:
        with Image.open(Path(gt_dir) / f'{n}.png') as gt:
            w, h = gt.size
        save_gray_png(out_dir / f'{n}.png', centre_blob(h, w))
    return out_dir
