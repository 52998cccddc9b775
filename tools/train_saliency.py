#!/usr/bin/env python
"""Train an InSPyReNet saliency model on DUTS-layout data (shared ``IterTrainer``).

    python tools/train_saliency.py configs/saliency/inspyrenet_res2net50_synthetic.py --work-dir work_dirs/sal_syn
    python tools/train_saliency.py configs/saliency/inspyrenet_swinb_duts.py --work-dir work_dirs/sal_swinb \
        --cfg-options data_root=data/DUTS-TR \
        model.backbone.pretrained=data/backbone_ckpt/swin_base_patch4_window12_384_22kto1k.pth
Multi-GPU: torchrun --nproc_per_node N tools/train_saliency.py CONFIG (train_cfg.batch_size is the global batch).

Writes ``latest.pth`` (resumable), ``final.pth`` = ``{'state_dict', 'meta': {'base_size', 'backbone', ...}}``
(usable by tools/make_saliency.py), ``config.py``, ``train.log``, ``metrics.json`` (final losses, plus
MAE / max F / S / mean E on ``eval_split`` when the config names one).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wsss.engine.config import add_common_args, default_work_dir, dump_config, load_config  # noqa: E402


def build_dataset(cfg):
    import wsss.datasets.duts  # noqa: F401  (registers DUTSDataset)
    from wsss.registry import DATASETS
    ds = {'data_root': cfg.data_root, 'base_size': list(cfg.model['base_size']), **dict(cfg.train_dataset)}
    return DATASETS.build(ds)


def evaluate_split(model, cfg, work_dir: Path, device) -> dict:
    """Predict ``cfg.eval_split`` of ``cfg.data_root`` into ``work_dir/pred`` and score it."""
    from wsss.saliency.make_maps import list_images, make_saliency_maps
    from wsss.saliency.metrics import evaluate_folder
    from wsss.utils.io import read_lines
    root = Path(cfg.data_root)
    split = cfg.eval_split
    lp = Path(split) if Path(split).is_file() else root / f'{split}.txt'
    inf = dict(cfg.get('inference', None) or {})
    make_saliency_maps(model, list_images(root, str(lp), 'Image'), work_dir / 'pred', mode=inf.get('mode', 'static'),
                       threshold=inf.get('threshold', -1), batch_size=8, device=device, progress=False,
                       overwrite=True)
    return evaluate_folder(work_dir / 'pred', root / 'GT', read_lines(lp))


def train_saliency(cfg, work_dir: str | Path, resume: bool = False, stop_at: Optional[int] = None) -> dict:
    import wsss.models.saliency  # noqa: F401  (registers InSPyReNet, backbones, loss)
    from wsss.engine.trainer import IterTrainer
    from wsss.registry import SALIENCY_MODELS
    from wsss.utils.io import atomic_write_json
    from wsss.utils.seed import set_seed
    set_seed(int(cfg.train_cfg.get('seed', 0)))
    model = SALIENCY_MODELS.build(cfg.model)
    dataset = build_dataset(cfg)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, work_dir)
    meta = {'stage': 'saliency', **model.checkpoint_meta()}
    trainer = IterTrainer(model, dataset, cfg, work_dir, meta=meta)
    last = trainer.train(resume=resume, stop_at=stop_at)
    if trainer.rank != 0 or (stop_at is not None and not (work_dir / 'final.pth').is_file()):
        return last
    out = {'name': work_dir.name, 'stage': 'train_saliency', 'meta': meta, 'final': last}
    if cfg.get('eval_split', None):
        out['eval'] = evaluate_split(trainer.model, cfg, work_dir, trainer.device)
        out['eval']['split'] = cfg.eval_split
        trainer.log(f"eval on {cfg.eval_split}: " + ' '.join(
            f'{k}={v:.4f}' for k, v in out['eval'].items() if isinstance(v, float)))
    atomic_write_json(work_dir / 'metrics.json', out)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument('--work-dir', help='output folder; default work_dirs/<config name>')
    p.add_argument('--resume', action='store_true', help='continue from <work-dir>/latest.pth')
    p.add_argument('--stop-at', type=int, help='pause after this many iterations (resume later with --resume)')
    args = p.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    return train_saliency(cfg, args.work_dir or default_work_dir(args.config), resume=args.resume,
                          stop_at=args.stop_at)


if __name__ == '__main__':
    main()
