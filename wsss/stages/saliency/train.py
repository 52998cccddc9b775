"""Saliency stage, training: a saliency model (InSPyReNet) on DUTS-layout data with the shared ``IterTrainer``.

Writes ``latest.pth`` (resumable), ``final.pth`` = ``{'state_dict', 'meta': {'base_size', 'backbone', ...}}``
(usable by :mod:`wsss.stages.saliency.infer`), ``config.py``, ``train.log`` and ``metrics.json`` (stage
``train_saliency``; section ``train``: the last logged losses; section ``eval_<split>``: MAE / max F / S /
mean E on ``cfg.eval_split`` when the config names one, predicted into ``<work_dir>/pred``).
The backbone's ``pretrained`` must be set before anything is built (:mod:`wsss.models.pretrained`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from wsss.datasets import build_dataset
from wsss.engine.config import config_source
from wsss.engine.records import write_record
from wsss.engine.trainer import trainer_in
from wsss.metrics.sod import evaluate_folder
from wsss.models.pretrained import require_pretrained
from wsss.registry import CONFIG_SECTIONS, SALIENCY_MODELS
from wsss.saliency.inference import list_images, make_saliency_maps
from wsss.utils.io import read_lines
from wsss.utils.seed import set_seed


@CONFIG_SECTIONS.register_module()
def saliency_train_sections(cfg) -> dict:
    """``eval_split``: the DUTS-layout list predicted and scored after training (None: none)."""
    return {'eval_split': None}


def evaluate_split(model, cfg, work_dir: Path, device) -> dict:
    """Predict ``cfg.eval_split`` of ``cfg.data_root`` into ``work_dir/pred`` and score it."""
    root = Path(cfg.data_root)
    split = cfg.eval_split
    lp = Path(split) if Path(split).is_file() else root / f'{split}.txt'
    inf = dict(cfg.get('inference', None) or {})
    make_saliency_maps(model, list_images(root, str(lp), 'Image'), work_dir / 'pred', mode=inf.get('mode', 'static'),
                       threshold=inf.get('threshold', -1), batch_size=8, device=device, progress=False,
                       overwrite=True)
    return evaluate_folder(work_dir / 'pred', root / 'GT', read_lines(lp))


def run(cfg, work_dir: str | Path, resume: bool = False, stop_at: Optional[int] = None) -> dict:
    """Train ``cfg.model``; returns the record's sections (rank 0, once training is finished)."""
    require_pretrained(cfg.model, 'train_saliency')
    set_seed(int(cfg.train_cfg.get('seed', 0)))
    model = SALIENCY_MODELS.build(cfg.model)
    dataset = build_dataset(cfg, 'train_dataset', base_size=list(cfg.model['base_size']))
    meta = {'stage': 'saliency', **model.checkpoint_meta()}
    trainer = trainer_in(work_dir, model, dataset, cfg, meta=meta, resume=resume)
    work_dir = Path(work_dir)
    last = trainer.train(resume=resume, stop_at=stop_at)
    if trainer.rank != 0 or (stop_at is not None and not (work_dir / 'final.pth').is_file()):
        return {'train': last}
    sections = {'train': last}
    if cfg.get('eval_split', None):
        res = evaluate_split(trainer.model, cfg, work_dir, trainer.device)
        sections[f'eval_{cfg.eval_split}'] = res
        trainer.log(f"eval on {cfg.eval_split}: " + ' '.join(
            f'{k}={v:.4f}' for k, v in res.items() if isinstance(v, float)))
    write_record(work_dir, 'train_saliency', sections, config=config_source(cfg),
                 inputs={'data_root': str(cfg.data_root), 'model': meta})
    return sections
