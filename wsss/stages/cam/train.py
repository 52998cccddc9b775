"""CAM stage, training: a CAM classifier on image-level labels (+ saliency for EPS-family heads).

Reads ``cfg.train_dataset`` under ``cfg.data_root`` and, when the model has a saliency loss, the maps of
``cfg.saliency_source`` (``<data_root>/<saliency_dir>/<id>.png``). Writes into ``work_dir``: ``final.pth``
(``{'state_dict', 'meta'}``), ``latest.pth`` (resumable), ``config.py``, ``train.log``, ``scalars.jsonl`` and
``metrics.json`` (stage ``train_cam``, section ``train``: the last logged losses).

Before anything is built or written: the backbone's ``pretrained`` must be set (:mod:`wsss.models.pretrained`),
and every file of the training split is checked (:func:`data_inputs`, :mod:`wsss.datasets.checks`; skipped with
``check_data=False``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from wsss.datasets import build_dataset
from wsss.datasets.checks import SplitInputs, run_checks, voc_split_inputs
from wsss.engine.config import config_source
from wsss.engine.records import read_record, record_path, write_record
from wsss.engine.resume_check import RUN_KEYS, SALIENCY_KEYS
from wsss.engine.trainer import trainer_in
from wsss.models.pretrained import require_pretrained
from wsss.registry import CAM_MODELS
from wsss.saliency.sources import build_saliency_source, saliency_folder
from wsss.utils.seed import set_seed


def data_inputs(cfg, needs_saliency: bool) -> list[Optional[SplitInputs]]:
    """What CAM training reads: the images of ``train_dataset``'s split, their image-level labels (``labels_file``
    or the masks) and, for a model with a saliency loss, the saliency source's maps."""
    sal_dir = saliency_folder(cfg)[0] if needs_saliency else None
    return [voc_split_inputs(cfg, 'train_dataset', 'CAM training: train_dataset', image_labels=True,
                             saliency_dir=sal_dir)]


def run(cfg, work_dir: str | Path, resume: bool = False, stop_at: Optional[int] = None) -> dict:
    """Train ``cfg.model`` to ``cfg.train_cfg.max_iters``; returns the last logged losses."""
    require_pretrained(cfg.model, 'train_cam')
    set_seed(int(cfg.train_cfg.get('seed', 0)))
    model = CAM_MODELS.build(cfg.model)
    report = run_checks(cfg, data_inputs(cfg, model.needs_saliency), 'train_cam')
    saliency = None
    if model.needs_saliency:  # a saliency loss (EPS family): the batches carry the maps
        saliency = build_saliency_source(cfg)
        if saliency is None:
            raise ValueError(f'{cfg.model["type"]} with a saliency loss needs a saliency source: set '
                             f'saliency_source=dict(type="FolderSaliency") and saliency_dir=...')
    dataset = build_dataset(cfg, 'train_dataset', mode='cam', saliency=saliency)
    trainer = trainer_in(work_dir, model, dataset, cfg, meta={'stage': 'cam', 'model': cfg.model['type']},
                         resume=resume, run_keys=RUN_KEYS + (SALIENCY_KEYS if model.needs_saliency else ()))
    trainer.log(f'saliency source: {saliency!r}')
    if report is not None:
        trainer.log(report.summary())
    last = trainer.train(resume=resume, stop_at=stop_at)
    # a rerun of a finished run (nothing trained) keeps its record
    if trainer.rank == 0 and (last or not record_path(work_dir).is_file()):
        write_record(work_dir, 'train_cam', {'train': last}, config=config_source(cfg),
                     inputs={'data_root': str(cfg.data_root), 'saliency': repr(saliency)})
    return last or read_record(work_dir).sections.get('train', {})
