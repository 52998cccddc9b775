"""Stage 3: CAMs (+ saliency) -> pseudo-labels, optionally refined by a dense CRF.

File contract (all palette PNGs, 0 = background, 1..20 = classes, 255 = ignore/uncertain):
    <out_dir>/seed/<id>.png    CAM seed: per-class max-normalised CAMs vs a constant background score
    <out_dir>/nocrf/<id>.png   the method's pseudo-label rule (``pseudo.rule``) before CRF
    <out_dir>/crf/<id>.png     the same after dense-CRF refinement (when ``pseudo.crf`` is set)
    <out_dir>/cams/<id>.npy    (``save_cams``) float16 (20, H, W) fused CAMs, max-normalised per class
    <out_dir>/metrics.json     mIoU of each folder against ground truth (when it exists) + region statistics
Every file is written atomically; an image counts as done when all its files exist, so a rerun (on any
number of processes or ``torchrun`` ranks) skips finished images and never sees half-written files.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from mmengine import dist
from tqdm import tqdm

from wsss.engine.config import dump_config
from wsss.engine.dist import pick_device, setup_distributed, shard
from wsss.engine.trainer import get_logger
from wsss.registry import CAM_MODELS, DATASETS, PSEUDO_RULES
from wsss.saliency.sources import build_saliency_source
from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, strip_prefix
from wsss.utils.io import atomic_write_bytes, atomic_write_json, save_label_png

DEFAULT_PSEUDO = dict(split='train', scales=(0.5, 1.0, 1.5, 2.0), flip=True, seed_bg_score=0.2,
                      rule=dict(type='EPSRule', bg_score=0.2), use_saliency=False, crf=None, num_workers=1,
                      save_cams=False, device='auto', crf_fills_ignore=False)


def _saliency_for_rule(cfg, settings: dict):
    if not settings['use_saliency']:
        return None
    source = build_saliency_source(cfg)
    if source is None:
        raise ValueError(f"pseudo.rule {settings['rule']} reads saliency (pseudo.use_saliency=True) but the config "
                         'has no saliency source: set saliency_source (e.g. dict(type=\'FolderSaliency\')) and '
                         'saliency_dir')
    return source


def pseudo_settings(cfg) -> dict:
    return {**DEFAULT_PSEUDO, **dict(cfg.get('pseudo', {}))}


def load_cam_model(cfg, checkpoint: str | Path, device: torch.device):
    """Build ``cfg.model`` and load our ``final.pth`` or an official raw state_dict (strict)."""
    model = CAM_MODELS.build(cfg.model)
    state = strip_prefix(extract_state_dict(load_checkpoint_file(checkpoint), checkpoint))
    load_state_dict_checked(model, state, checkpoint, strict=True)
    return model.to(device).eval()


def output_dirs(out_dir: Path, settings: dict) -> dict[str, Path]:
    dirs = {'seed': out_dir / 'seed', 'nocrf': out_dir / 'nocrf'}
    if settings['crf']:
        dirs['crf'] = out_dir / 'crf'
    if settings['save_cams']:
        dirs['cams'] = out_dir / 'cams'
    return dirs


def _is_done(image_id: str, dirs: dict[str, Path]) -> bool:
    return all((d / f'{image_id}{".npy" if k == "cams" else ".png"}').is_file() for k, d in dirs.items())


def _save_npy(path: Path, arr: np.ndarray) -> None:
    import io
    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write_bytes(path, buf.getvalue())


class PseudoLabeler:
    """Everything needed to turn one image into its pseudo-label files (one per worker process)."""

    def __init__(self, cfg, checkpoint, out_dir: Path, settings: dict):
        self.settings = settings
        self.device = pick_device(settings['device'])
        self.model = load_cam_model(cfg, checkpoint, self.device)
        self.dataset = DATASETS.build({'data_root': cfg.data_root, **dict(cfg.get('infer_dataset', {})),
                                       'split': settings['split'], 'mode': 'infer',
                                       'saliency': _saliency_for_rule(cfg, settings)})
        self.seed_rule = PSEUDO_RULES.build(dict(type='EPSRule', bg_score=settings['seed_bg_score']))
        self.rule = PSEUDO_RULES.build(dict(settings['rule']))
        self.dirs = output_dirs(out_dir, settings)
        self.crf_params = None
        if settings['crf']:
            from wsss.crf import CRFParams
            self.crf_params = CRFParams(**dict(settings['crf']))

    @torch.no_grad()
    def process(self, index: int) -> None:
        from wsss.crf import crf_labels
        from wsss.pseudo.cam_infer import multiscale_cam
        item = self.dataset[index]
        image, cls_label, image_id = item['image'], item['cls_label'], item['meta']['id']
        h, w = image.shape[:2]
        s = self.settings
        cams = multiscale_cam(self.model, image, scales=tuple(s['scales']), flip=bool(s['flip']),
                              fusion=getattr(self.model, 'flip_fusion', 'sum'), device=self.device,
                              cls_label=cls_label)
        sal = None
        if s['use_saliency']:
            sal = self.dataset.load_saliency(image_id, (h, w)).astype(np.float32) / 255.0
        seed, _ = self.seed_rule(cams, cls_label, None)
        label, probs = self.rule(cams, cls_label, sal)
        if 'cams' in self.dirs:
            norm = cams / (cams.reshape(cams.shape[0], -1).max(1)[:, None, None] + 1e-5)
            _save_npy(self.dirs['cams'] / f'{image_id}.npy', (norm * cls_label[:, None, None]).astype(np.float16))
        save_label_png(self.dirs['seed'] / f'{image_id}.png', seed)
        save_label_png(self.dirs['nocrf'] / f'{image_id}.png', label)
        if self.crf_params is not None:
            channels = [0] + [int(c) + 1 for c in np.flatnonzero(cls_label)]
            refined = crf_labels(image, probs, channels, self.crf_params)
            if not s['crf_fills_ignore']:  # the rule's "uncertain" stays ignored, unless the CRF is to decide it
                refined = np.where(label == 255, 255, refined).astype(np.uint8)
            save_label_png(self.dirs['crf'] / f'{image_id}.png', refined)


def _worker(args) -> int:
    cfg_text, checkpoint, out_dir, settings, indices, threads, position = args
    from mmengine.config import Config
    torch.set_num_threads(threads)
    cfg = Config.fromstring(cfg_text, file_format='.py')
    labeler = PseudoLabeler(cfg, checkpoint, Path(out_dir), settings)
    for i in tqdm(indices, desc=f'pseudo[{position}]', position=position, leave=False, mininterval=2,
                  disable=None):
        labeler.process(i)
    return len(indices)


def make_pseudo(cfg, checkpoint: str | Path, out_dir: str | Path, split: Optional[str] = None,
                crf: Optional[bool] = None, num_workers: Optional[int] = None,
                limit: Optional[int] = None) -> dict:
    """Write pseudo-labels for ``split`` into ``out_dir``; returns the metrics (rank 0)."""
    rank, world = setup_distributed()
    settings = pseudo_settings(cfg)
    if split is not None:
        settings['split'] = split
    if crf is False:
        settings['crf'] = None
    elif crf is True and not settings['crf']:
        from dataclasses import asdict

        from wsss.crf import CRFParams
        settings['crf'] = asdict(CRFParams.deeplab_v2())
    if num_workers is not None:
        settings['num_workers'] = num_workers
    cfg.pseudo = settings
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    logger = get_logger(out_dir, 'make_pseudo')
    if rank == 0:
        dump_config(cfg, out_dir)
    dataset = DATASETS.build({'data_root': cfg.data_root, **dict(cfg.get('infer_dataset', {})),
                              'split': settings['split'], 'mode': 'infer'})
    ids = dataset.ids[:limit] if limit else dataset.ids
    dirs = output_dirs(out_dir, settings)
    todo = [i for i, image_id in enumerate(ids) if not _is_done(image_id, dirs)]
    mine = shard(todo, rank, world)
    logger.info(f'rank {rank}/{world}: {len(ids)} images in {settings["split"]}, {len(ids) - len(todo)} already '
                f'done, {len(mine)} to do here; rule={settings["rule"]} crf={settings["crf"]}')
    nw = max(1, int(settings['num_workers']))
    if mine:
        if nw == 1:
            _worker((cfg.pretty_text, str(checkpoint), str(out_dir), settings, mine, torch.get_num_threads(), 0))
        else:
            threads = max(1, (os.cpu_count() or 1) // nw)
            jobs = [(cfg.pretty_text, str(checkpoint), str(out_dir), settings, mine[k::nw], threads, k)
                    for k in range(nw)]
            with mp.get_context('spawn').Pool(nw) as pool:
                pool.map(_worker, jobs)
    if dist.is_distributed():
        dist.barrier()
    if rank != 0:
        return {}
    metrics = evaluate_pseudo(cfg.data_root, ids, dirs, dataset, name=out_dir.name)
    atomic_write_json(out_dir / 'metrics.json', metrics)
    for sec, m in metrics.get('sections', {}).items():
        logger.info(f'{sec}: mIoU {m.get("mIoU", float("nan")):.2f} ' +
                    ' '.join(f'{k}={v:.3f}' for k, v in m.get('extra', {}).items()))
    return metrics


def evaluate_pseudo(data_root, ids, dirs: dict[str, Path], dataset, name: str) -> dict:
    """mIoU of seed / nocrf / crf folders against GT (if every GT mask exists) + synthetic region stats."""
    from wsss.engine.label_eval import evaluate_label_dir
    sections = {}
    has_gt = all((dataset.ann_dir / f'{i}.png').is_file() for i in ids)
    regions = Path(data_root) / 'SyntheticRegions'
    for key, section in (('seed', 'seed'), ('nocrf', 'pseudo_nocrf'), ('crf', 'pseudo_crf')):
        if key not in dirs or not has_gt:
            continue
        m = evaluate_label_dir(dirs[key], dataset.ann_dir, ids)
        if regions.is_dir():
            from wsss.metrics.regions import region_stats
            m.setdefault('extra', {}).update(region_stats(dirs[key], data_root, ids))
        sections[section] = m
    return {'name': name, 'stage': 'make_pseudo', 'num_images': len(ids), 'sections': sections}
