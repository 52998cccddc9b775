"""Salient-object-detection metrics (wrapping ``py_sod_metrics`` = PySODMetrics, as the official InSPyReNet eval).

- MAE: mean |pred/255 - gt| per image, averaged over images.
- max F: F_beta = (1 + b2) P R / (b2 P + R) with b2 = 0.3, at 256 thresholds; the per-threshold mean over
  images, then the max over thresholds (``maxFm``); ``adpFm`` uses the adaptive threshold 2 * mean(pred).
- S-measure (alpha = 0.5): structure similarity, object- and region-aware.
- mean E-measure: enhanced-alignment measure averaged over the 256 thresholds (``avgEm``, the usual "mean E").
GT is binarised at 128 by the library; predictions are uint8 maps of the same size (resized bilinearly to the
GT size when they differ, as the official evaluation does; the count is reported).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
from PIL import Image


class SODMetrics:
    """Accumulate (pred uint8 HxW, gt uint8 HxW) pairs; ``results()`` -> dict of floats."""

    def __init__(self):
        import py_sod_metrics as sod
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            self.fm, self.sm, self.em, self.mae = sod.Fmeasure(beta=0.3), sod.Smeasure(), sod.Emeasure(), sod.MAE()
        self.n = 0
        self.resized = 0

    def step(self, pred: np.ndarray, gt: np.ndarray) -> None:
        pred, gt = np.asarray(pred), np.asarray(gt)
        if pred.ndim == 3:
            pred = pred[..., 0]
        if gt.ndim == 3:
            gt = gt[..., 0]
        if pred.shape != gt.shape:
            pred = np.asarray(Image.fromarray(pred.astype(np.uint8)).resize(gt.shape[::-1], Image.BILINEAR))
            self.resized += 1
        pred, gt = pred.astype(np.uint8), gt.astype(np.uint8)
        for m in (self.fm, self.sm, self.em, self.mae):
            m.step(pred=pred, gt=gt)
        self.n += 1

    def results(self) -> dict:
        if self.n == 0:
            raise ValueError('no image was evaluated')
        fm, em = self.fm.get_results()['fm'], self.em.get_results()['em']
        return {'num_images': self.n, 'mae': float(self.mae.get_results()['mae']),
                'maxFm': float(np.max(fm['curve'])), 'meanFm': float(np.mean(fm['curve'])), 'adpFm': float(fm['adp']),
                'Sm': float(self.sm.get_results()['sm']),
                'meanEm': float(np.mean(em['curve'])), 'maxEm': float(np.max(em['curve'])), 'adpEm': float(em['adp']),
                'resized_predictions': self.resized}


def read_gray(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f'map not found: {path}')
    with Image.open(path) as im:
        return np.asarray(im.convert('L'))


def evaluate_folder(pred_dir: str | Path, gt_dir: str | Path, names: Optional[Iterable[str]] = None) -> dict:
    """Metrics of ``<pred_dir>/<name>.png`` against ``<gt_dir>/<name>.png`` (every GT when ``names`` is None).
    A missing prediction is an error naming it."""
    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    names = sorted(p.stem for p in gt_dir.glob('*.png')) if names is None else list(names)
    missing = [n for n in names if not (pred_dir / f'{n}.png').is_file()]
    if missing:
        raise FileNotFoundError(f'{len(missing)} of {len(names)} predictions missing in {pred_dir} '
                                f'(first: {missing[:5]})')
    m = SODMetrics()
    for n in names:
        m.step(read_gray(pred_dir / f'{n}.png'), read_gray(gt_dir / f'{n}.png'))
    return m.results()
