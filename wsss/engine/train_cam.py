"""Stage 2: train a CAM classifier (plain CAM, EPS, SeeNet, EPS+SeeNet — one model, chosen by config)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from wsss.engine.config import dump_config
from wsss.engine.trainer import IterTrainer
from wsss.registry import CAM_MODELS, DATASETS
from wsss.saliency.sources import build_saliency_source
from wsss.utils.io import atomic_write_json
from wsss.utils.seed import set_seed


def build_train_dataset(cfg, mode: str, **extra):
    """``cfg.train_dataset`` with ``data_root`` from the top level of the config."""
    ds = {'data_root': cfg.data_root, **dict(cfg.train_dataset), 'mode': mode, **extra}
    return DATASETS.build(ds)


def train_cam(cfg, work_dir: str | Path, resume: bool = False, stop_at: Optional[int] = None) -> dict:
    set_seed(int(cfg.train_cfg.get('seed', 0)))
    model = CAM_MODELS.build(cfg.model)
    saliency = build_saliency_source(cfg)
    needs_saliency = cfg.model.get('sal_loss') is not None
    if needs_saliency and saliency is None:
        raise ValueError(f'{cfg.model["type"]} with a saliency loss needs a saliency source: set '
                         f'saliency_source=dict(type="FolderSaliency") and saliency_dir=...')
    if not needs_saliency:
        saliency = None  # do not read maps the model ignores
    dataset = build_train_dataset(cfg, 'cam', saliency=saliency)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, work_dir)
    trainer = IterTrainer(model, dataset, cfg, work_dir, meta={'stage': 'cam', 'model': cfg.model['type']})
    trainer.log(f'saliency source: {saliency!r}')
    last = trainer.train(resume=resume, stop_at=stop_at)
    if trainer.rank == 0:
        atomic_write_json(work_dir / 'metrics.json', {'name': work_dir.name, 'stage': 'train_cam',
                                                      'final': last})
    return last
