"""Segmenter stage, training on the label PNGs of the top-level ``label_dir`` (relative to ``data_root`` or
absolute: pseudo-labels, or ``SegmentationClass`` for full supervision).

The labels are checked before training starts (missing files and values outside 0..20/255 are listed by name,
all at once). After training the model is evaluated on ``cfg.evaluation.split`` (single scale) by
:mod:`wsss.stages.seg.evaluate`, which writes ``metrics.json`` (stage ``eval_seg``, section ``val_ss``).
Work dir: ``final.pth``, ``latest.pth`` (resumable), ``config.py``, ``train.log``, ``scalars.jsonl``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from wsss.datasets import build_dataset
from wsss.datasets.voc import resolve_dir
from wsss.engine.trainer import trainer_in
from wsss.metrics.label_dirs import validate_label_dir
from wsss.registry import SEGMENTERS
from wsss.stages.seg import evaluate
from wsss.utils.seed import set_seed


def run(cfg, work_dir: str | Path, resume: bool = False, stop_at: Optional[int] = None,
        evaluate_after: bool = True) -> dict:
    """Train ``cfg.model`` on ``cfg.label_dir``; returns the evaluation's record sections (or the last logged
    losses when ``evaluate_after`` is False or training paused at ``stop_at``)."""
    set_seed(int(cfg.train_cfg.get('seed', 0)))
    if not cfg.get('label_dir'):
        raise ValueError('set label_dir=... (a folder of label PNGs: pseudo-labels, or SegmentationClass)')
    label_dir = Path(resolve_dir(cfg.data_root, cfg.label_dir)).resolve()  # absolute: the dataset must not re-join it
    dataset = build_dataset(cfg, 'train_dataset', mode='seg', label_dir=str(label_dir))
    validate_label_dir(label_dir, dataset.ids)
    model = SEGMENTERS.build(cfg.model)
    trainer = trainer_in(work_dir, model, dataset, cfg, meta={'stage': 'seg', 'model': cfg.model['type']})
    trainer.log(f'training labels: {label_dir}')
    last = trainer.train(resume=resume, stop_at=stop_at)
    if (stop_at is not None and stop_at < int(cfg.train_cfg['max_iters'])) or not evaluate_after:
        return last
    ev = dict(cfg.get('evaluation', {}))
    return evaluate.run(cfg, Path(work_dir) / 'final.pth', out_dir=work_dir, split=ev.get('split', 'val'),
                        model=trainer.model, save_png=False)
