"""Pseudo-label stage, evaluation of any folder of label PNGs (pseudo-labels, seeds, predictions) against a
VOC split's ground truth, with mmsegmentation's IoUMetric semantics (:mod:`wsss.metrics.label_dirs`).

Writes the run record (stage ``eval_labels``) into ``out`` (default ``<pred_dir>/metrics.json``) as section
``section`` (default ``labels``), keeping the record's other sections.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from wsss.engine.records import update_section
from wsss.metrics.label_dirs import evaluate_label_dir, split_ids


def run(pred_dir: str | os.PathLike, data_root: str | os.PathLike, split: str = 'train',
        gt_dir: str = 'SegmentationClass', out: str | os.PathLike | None = None,
        ids: Optional[Sequence[str]] = None, name: Optional[str] = None, section: str = 'labels',
        num_classes: int = 21) -> dict:
    """Evaluate ``pred_dir`` on ``split`` (or ``ids``); ``gt_dir`` is relative to ``data_root`` unless absolute.
    Returns the section's metrics (``mIoU``, ``aAcc``, ``mAcc``, per-class ``IoU``/``Acc``, ``num_images``)."""
    pred_dir = Path(pred_dir)
    gt_path = Path(gt_dir) if os.path.isabs(gt_dir) else Path(data_root) / gt_dir
    if not pred_dir.is_dir():
        raise FileNotFoundError(f'prediction folder not found: {pred_dir}')
    if not gt_path.is_dir():
        raise FileNotFoundError(f'ground-truth folder not found: {gt_path}')
    ids = list(ids) if ids is not None else split_ids(data_root, split)
    res = evaluate_label_dir(pred_dir, gt_path, ids, num_classes=num_classes)
    update_section(out if out is not None else pred_dir, 'eval_labels', section, res,
                   name=name or pred_dir.resolve().name,
                   inputs={'pred_dir': str(pred_dir), 'gt_dir': str(gt_path), 'split': split})
    return res
