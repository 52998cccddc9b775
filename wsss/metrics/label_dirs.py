"""Evaluate / validate folders of label PNGs (pseudo-labels, CAM seeds, segmenter predictions).

``evaluate_label_dir``: mIoU of ``<pred_dir>/<id>.png`` against ``<gt_dir>/<id>.png`` with the
mmseg ``IoUMetric`` definition (``wsss.metrics.iou``): GT 255 ignored, prediction 255 on valid
GT counted as wrong, dataset-level IoU, NaN classes excluded from the mean. Predictions must have
exactly the GT size (no cropping as in EPS's ``evaluate_png.py``): a mismatch is an error naming
the file. All missing files are reported in one error before anything is evaluated.

``validate_label_dir``: checks a label folder before training on it (segmenter stage).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

from wsss.metrics.iou import ConfusionMatrix
from wsss.utils.io import read_label_png, read_lines
from wsss.utils.voc_meta import IGNORE_INDEX, SEG_CLASSES

__all__ = ['LabelDirError', 'split_ids', 'validate_label_dir', 'evaluate_label_dir']

logger = logging.getLogger(__name__)
MAX_LISTED = 20


class LabelDirError(ValueError):
    """A label folder is incomplete or holds invalid files (one error listing the problems)."""


def _listing(what: str, items: Sequence[str], total: int | None = None) -> str:
    total = len(items) if total is None else total
    shown = '\n  '.join(items[:MAX_LISTED])
    more = f'\n  ... and {total - MAX_LISTED} more' if total > MAX_LISTED else ''
    return f'{total} {what}:\n  {shown}{more}'


def split_ids(data_root: str | os.PathLike, split: str) -> list[str]:
    """Ids of ``<data_root>/ImageSets/Segmentation/<split>.txt``."""
    return read_lines(Path(data_root) / 'ImageSets' / 'Segmentation' / f'{split}.txt')


def _missing(folder: Path, ids: Sequence[str], suffix: str = '.png') -> list[str]:
    return [str(folder / f'{i}{suffix}') for i in ids if not (folder / f'{i}{suffix}').is_file()]


def validate_label_dir(label_dir: str | os.PathLike, ids: Sequence[str], num_classes: int = 21) -> None:
    """Raise ONE ``LabelDirError`` if any ``<label_dir>/<id>.png`` is missing or breaks the label contract
    (:func:`wsss.utils.io.read_label_png`: a readable palette / grey PNG with values in ``0..num_classes-1``
    and 255). The message lists up to 20 missing and 20 invalid files (with counts)."""
    label_dir = Path(label_dir)
    if not label_dir.is_dir():
        raise LabelDirError(f'label folder not found: {label_dir}')
    missing, bad = [], []
    for i in ids:
        p = label_dir / f'{i}.png'
        if not p.is_file():
            missing.append(str(p))
            continue
        try:
            read_label_png(p, num_classes)
        except ValueError as e:  # the message names the file and the problem
            bad.append(str(e))
    if missing or bad:
        parts = [f'label folder {label_dir} is not usable ({len(ids)} ids checked)']
        if missing:
            parts.append(_listing('missing files', missing))
        if bad:
            parts.append(_listing('invalid files', bad))
        raise LabelDirError('\n'.join(parts))


def evaluate_label_dir(pred_dir: str | os.PathLike, gt_dir: str | os.PathLike, ids: Sequence[str],
                       num_classes: int = 21, ignore_index: int = IGNORE_INDEX,
                       class_names: Sequence[str] | None = None) -> dict:
    """mmseg-style metrics of ``pred_dir`` against ``gt_dir`` over ``ids``.

    Returns ``ConfusionMatrix.compute()``: ``mIoU``, ``aAcc``, ``mAcc`` (×100, 2 decimals),
    ``IoU`` / ``Acc`` per class name (None for classes absent from prediction and GT),
    ``num_images`` and ``raw`` (unrounded fractions).
    """
    pred_dir, gt_dir = Path(pred_dir), Path(gt_dir)
    if not ids:
        raise ValueError('no ids to evaluate')
    if class_names is None:
        class_names = SEG_CLASSES if num_classes == len(SEG_CLASSES) else None
    missing = _missing(pred_dir, ids) + _missing(gt_dir, ids)
    if missing:
        raise FileNotFoundError(_listing('missing files (prediction or ground truth)', missing))
    cm = ConfusionMatrix(num_classes, ignore_index, class_names)
    for n, i in enumerate(ids):
        pred = read_label_png(pred_dir / f'{i}.png', num_classes)
        gt = read_label_png(gt_dir / f'{i}.png', num_classes)
        if pred.shape != gt.shape:
            raise ValueError(f'{pred_dir / f"{i}.png"}: size {pred.shape[1]}x{pred.shape[0]} (WxH) differs '
                             f'from the ground truth {gt_dir / f"{i}.png"} ({gt.shape[1]}x{gt.shape[0]})')
        cm.update(pred, gt)
        if (n + 1) % 500 == 0:
            logger.info('evaluated %d / %d', n + 1, len(ids))
    return cm.compute()
