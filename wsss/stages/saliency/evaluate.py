"""Saliency stage, evaluation: a folder of maps against a DUTS-layout split's ground truth — MAE, max F
(beta^2 = 0.3), S-measure, mean E-measure (PySODMetrics, :mod:`wsss.metrics.sod`) — or the centre-blob
baseline. Writes the run record (stage ``eval_saliency``, section ``sod``) to ``out`` (default
``<pred_dir>/metrics.json``)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from wsss.engine.records import write_record
from wsss.metrics.sod import evaluate_folder
from wsss.saliency.baselines import write_centre_blob_maps
from wsss.utils.io import read_lines


def split_names(data_root: Path, split: Optional[str]) -> Optional[list[str]]:
    """Names of a DUTS-layout list (``<root>/<split>.txt`` or a path); None = every ground-truth map."""
    if not split:
        return None
    lp = Path(split)
    lp = lp if lp.is_file() else data_root / (split if split.endswith('.txt') else f'{split}.txt')
    return read_lines(lp)


def run(data_root: str | os.PathLike, pred_dir: Optional[str | os.PathLike] = None, split: Optional[str] = None,
        gt_dir: str = 'GT', out: Optional[str | os.PathLike] = None, centre_blob: bool = False) -> dict:
    """Score ``pred_dir`` (or, with ``centre_blob``, the centre-blob maps written to
    ``<data_root>/saliency/centre_blob``); returns the metrics."""
    root = Path(data_root)
    names = split_names(root, split)
    if centre_blob:
        gt_names = names if names is not None else sorted(q.stem for q in (root / gt_dir).glob('*.png'))
        pred_dir = write_centre_blob_maps(root / gt_dir, gt_names, root / 'saliency' / 'centre_blob')
    elif pred_dir is None:
        raise ValueError('give a folder of predicted maps (pred_dir) or centre_blob=True')
    pred_dir = Path(pred_dir)
    res = evaluate_folder(pred_dir, root / gt_dir, names)
    write_record(out if out is not None else pred_dir, 'eval_saliency', {'sod': res}, name=pred_dir.name,
                 inputs={'pred_dir': str(pred_dir), 'gt_dir': str(root / gt_dir), 'split': split})
    return res
