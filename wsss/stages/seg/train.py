"""Segmenter stage, training on the label PNGs of the top-level ``label_dir`` (relative to ``data_root`` or
absolute: pseudo-labels, or ``SegmentationClass`` for full supervision).

Before anything is built or written: the backbone's ``pretrained`` must be set (:mod:`wsss.models.pretrained`),
and every file the run reads is checked, all problems listed at once by name (:func:`data_inputs`,
:mod:`wsss.datasets.checks`: images, image-level labels, the training labels - missing, values outside
0..20/255, wrong size - and the evaluation split; with ``check_data=False`` only the training labels are
checked, by :func:`~wsss.metrics.label_dirs.validate_label_dir`). After training the model is evaluated on
``cfg.evaluation.split`` (single scale) by :mod:`wsss.stages.seg.evaluate`, which writes ``metrics.json``
(stage ``eval_seg``, section ``val_ss``).
Work dir: ``final.pth``, ``latest.pth`` (resumable), ``config.py``, ``train.log``, ``scalars.jsonl``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from wsss.datasets import build_dataset
from wsss.datasets.checks import SplitInputs, run_checks, voc_split_inputs
from wsss.datasets.voc import resolve_dir
from wsss.engine.config_keys import Keys
from wsss.engine.trainer import trainer_in
from wsss.metrics.label_dirs import validate_label_dir
from wsss.models.pretrained import require_pretrained
from wsss.registry import CONFIG_SECTIONS, SEGMENTERS
from wsss.stages.seg import evaluate
from wsss.utils.seed import set_seed


@CONFIG_SECTIONS.register_module()
def seg_sections(cfg) -> dict:
    """``label_dir`` (the training labels) and ``evaluation`` (``split``: evaluated after training)."""
    return {'label_dir': None, 'evaluation': Keys(('split',))}


def data_inputs(cfg, label_dir: Path, evaluate_after: bool = True) -> list[Optional[SplitInputs]]:
    """What the run reads: ``train_dataset``'s images, image-level labels and training labels (``label_dir``),
    then (``evaluate_after``) the evaluation split's files."""
    inputs = [voc_split_inputs(cfg, 'train_dataset', 'segmenter training: train_dataset', image_labels=True,
                               label_dir=label_dir)]
    if evaluate_after:
        inputs += evaluate.data_inputs(cfg, dict(cfg.get('evaluation', {})).get('split', 'val'))
    return inputs


def run(cfg, work_dir: str | Path, resume: bool = False, stop_at: Optional[int] = None,
        evaluate_after: bool = True) -> dict:
    """Train ``cfg.model`` on ``cfg.label_dir``; returns the evaluation's record sections (or the last logged
    losses when ``evaluate_after`` is False or training paused at ``stop_at``)."""
    require_pretrained(cfg.model, 'train_seg')
    set_seed(int(cfg.train_cfg.get('seed', 0)))
    if not cfg.get('label_dir'):
        raise ValueError('set label_dir=... (a folder of label PNGs: pseudo-labels, or SegmentationClass)')
    label_dir = Path(resolve_dir(cfg.data_root, cfg.label_dir)).resolve()  # absolute: the dataset must not re-join it
    report = run_checks(cfg, data_inputs(cfg, label_dir, evaluate_after), 'train_seg')
    dataset = build_dataset(cfg, 'train_dataset', mode='seg', label_dir=str(label_dir))
    if report is None:
        validate_label_dir(label_dir, dataset.ids)
    model = SEGMENTERS.build(cfg.model)
    trainer = trainer_in(work_dir, model, dataset, cfg, meta={'stage': 'seg', 'model': cfg.model['type']},
                         resume=resume)
    trainer.log(f'training labels: {label_dir}')
    if report is not None:
        trainer.log(report.summary())
    last = trainer.train(resume=resume, stop_at=stop_at)
    if (stop_at is not None and stop_at < int(cfg.train_cfg['max_iters'])) or not evaluate_after:
        return last
    ev = dict(cfg.get('evaluation', {}))
    return evaluate.run(cfg, Path(work_dir) / 'final.pth', out_dir=work_dir, split=ev.get('split', 'val'),
                        model=trainer.model, save_png=False, check=False)
