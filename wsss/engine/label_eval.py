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

import numpy as np
from PIL import Image

from wsss.utils.voc_meta import IGNORE_INDEX, SEG_CLASSES
from wsss.metrics.iou import ConfusionMatrix
from wsss.utils.io import atomic_write_json, read_label_png, read_lines

__all__ = ['LabelDirError', 'split_ids', 'validate_label_dir', 'evaluate_label_dir', 'eval_labels']

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
    """Raise ONE ``LabelDirError`` if any ``<label_dir>/<id>.png`` is missing or invalid.

    Invalid: not a palette / grey single-channel PNG, or values outside ``0..num_classes-1``
    and 255. The message lists up to 20 missing and 20 invalid files (with counts).
    """
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
            with Image.open(p) as img:
                mode = img.mode
                arr = np.asarray(img) if mode in ('P', 'L', 'I', 'I;16') else None
        except Exception as e:  # unreadable / truncated file
            bad.append(f'{p} (unreadable: {e})')
            continue
        if arr is None:
            bad.append(f'{p} (mode {mode}; expected a palette or grey index PNG)')
            continue
        wrong = (arr >= num_classes) & (arr != IGNORE_INDEX)
        if wrong.any():
            bad.append(f'{p} (values {np.unique(arr[wrong])[:8].tolist()} outside 0..{num_classes - 1}/255)')
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


def eval_labels(pred_dir: str | os.PathLike, data_root: str | os.PathLike, split: str = 'train',
                gt_dir: str = 'SegmentationClass', out: str | os.PathLike | None = None,
                ids: Sequence[str] | None = None, name: str | None = None,
                section: str | None = None, num_classes: int = 21) -> dict:
    """Evaluate a label folder on a VOC split and write ``metrics.json``.

    ``gt_dir`` is relative to ``data_root`` unless absolute. ``out`` defaults to
    ``<pred_dir>/metrics.json``. Without ``section`` the file is written in the flat form
    (``{"name", "split", "pred_dir", "gt_dir", "num_images", "mIoU", "aAcc", "mAcc",
    "IoU": {cls: v}, "Acc": {cls: v}, "raw": {...}}``); with ``section`` the metrics are merged
    as that section into ``out`` in the sectioned form (see ``wsss.engine.tables``).
    Returns the written metrics dict.
    """
    from wsss.engine.tables import update_metrics_section

    pred_dir = Path(pred_dir)
    gt_path = Path(gt_dir) if os.path.isabs(gt_dir) else Path(data_root) / gt_dir
    if not pred_dir.is_dir():
        raise FileNotFoundError(f'prediction folder not found: {pred_dir}')
    if not gt_path.is_dir():
        raise FileNotFoundError(f'ground-truth folder not found: {gt_path}')
    ids = list(ids) if ids is not None else split_ids(data_root, split)
    res = evaluate_label_dir(pred_dir, gt_path, ids, num_classes=num_classes)
    name = name or pred_dir.resolve().name
    meta = {'name': name, 'split': split, 'pred_dir': str(pred_dir), 'gt_dir': str(gt_path)}
    out = Path(out) if out is not None else pred_dir / 'metrics.json'
    if section:
        section_metrics = {**{k: v for k, v in meta.items() if k != 'name'}, **res}
        update_metrics_section(out, section, section_metrics, name=name)
        return section_metrics
    doc = {**meta, **res}
    atomic_write_json(out, doc)
    return doc
