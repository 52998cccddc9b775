"""Pseudo-label stage: CAMs (+ saliency) -> pseudo-labels, optionally refined by a dense CRF.

File contract (all palette PNGs, 0 = background, 1..20 = classes, 255 = ignore/uncertain):
    <out_dir>/seed/<id>.png    CAM seed: per-class max-normalised CAMs vs a constant background score
    <out_dir>/nocrf/<id>.png   the method's pseudo-label rule (``pseudo.rule``) before CRF
    <out_dir>/crf/<id>.png     the same after dense-CRF refinement (when ``pseudo.crf`` is set)
    <out_dir>/cams/<id>.npy    (``save_cams``) float16 (20, H, W) fused CAMs, max-normalised per class
    <out_dir>/metrics.json     run record (stage ``make_pseudo``): mIoU of each folder against ground truth
                               (sections ``seed``, ``pseudo_nocrf``, ``pseudo_crf``) when it exists, plus the
                               config's ``label_metrics`` (e.g. synthetic region statistics) in each ``extra``
Every file is written atomically; an image counts as done when all its files exist, so a rerun (on any
number of processes or ``torchrun`` ranks) skips finished images and never sees half-written files. A rerun with
another checkpoint, model, data or label settings is refused (``<out_dir>/_inputs.json``,
:mod:`wsss.engine.output_stamp`) instead of mixing two runs' files.

Settings: ``cfg.pseudo`` over :data:`DEFAULT_PSEUDO` (split, scales, flip, seed background score, ``rule``
(a ``PSEUDO_RULES`` config), ``use_saliency``, ``crf`` (``CRFParams`` fields or None), ``crf_fills_ignore``,
``num_workers``, ``save_cams``, ``device``).

Before anything is written, every file the run reads is checked (:func:`data_inputs`, :mod:`wsss.datasets.checks`;
skipped with ``check_data=False``).
"""
from __future__ import annotations

import io
import multiprocessing as mp
import os
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from mmengine import dist
from tqdm import tqdm

from wsss.crf import CRFParams, crf_labels
from wsss.datasets import build_dataset
from wsss.datasets.checks import SplitInputs, run_checks, voc_split_inputs
from wsss.engine.config import config_source, dump_config
from wsss.engine.config_keys import Built, Fields, Keys, ListOf
from wsss.engine.dist import pick_device, setup_distributed, shard
from wsss.engine.logging import get_logger
from wsss.engine.output_stamp import check_output_stamp, file_sha256
from wsss.engine.records import write_record
from wsss.engine.trainer import channels_last
from wsss.metrics.label_dirs import evaluate_label_dir
from wsss.models.loading import load_trained
from wsss.pseudo.cam_infer import multiscale_cam
from wsss.registry import CAM_MODELS, CONFIG_SECTIONS, LABEL_METRICS, PSEUDO_RULES
from wsss.saliency.sources import build_saliency_source, saliency_folder
from wsss.utils.io import atomic_write_bytes, save_label_png

DEFAULT_PSEUDO = dict(split='train', scales=(0.5, 1.0, 1.5, 2.0), flip=True, seed_bg_score=0.2,
                      rule=dict(type='EPSRule', bg_score=0.2), use_saliency=False, crf=None, num_workers=1,
                      save_cams=False, device='auto', crf_fills_ignore=False)
#: run-record section of each output folder
SECTIONS = {'seed': 'seed', 'nocrf': 'pseudo_nocrf', 'crf': 'pseudo_crf'}


def pseudo_settings(cfg) -> dict:
    return {**DEFAULT_PSEUDO, **dict(cfg.get('pseudo', {}))}


@CONFIG_SECTIONS.register_module()
def pseudo_sections(cfg) -> dict:
    """``pseudo``: the keys of :data:`DEFAULT_PSEUDO` (``rule`` a ``PSEUDO_RULES`` config, ``crf`` ``CRFParams``
    fields); ``label_metrics``: a list of ``LABEL_METRICS`` configs."""
    return {'pseudo': Keys(DEFAULT_PSEUDO, rule=Built(PSEUDO_RULES), crf=Fields(CRFParams)),
            'label_metrics': ListOf(Built(LABEL_METRICS))}


def data_inputs(cfg, settings: dict, limit: Optional[int] = None) -> list[Optional[SplitInputs]]:
    """What the run reads: the images of ``pseudo.split`` (``infer_dataset``), their image-level labels, the
    saliency maps when the rule uses them, and the masks as ground truth (when every id has one)."""
    sal_dir = saliency_folder(cfg)[0] if settings['use_saliency'] else None
    return [voc_split_inputs(cfg, 'infer_dataset', 'pseudo-labels: infer_dataset', split=settings['split'],
                             image_labels=True, eval_gt=True, saliency_dir=sal_dir, limit=limit)]


def _saliency_for_rule(cfg, settings: dict):
    if not settings['use_saliency']:
        return None
    source = build_saliency_source(cfg)
    if source is None:
        raise ValueError(f"pseudo.rule {settings['rule']} reads saliency (pseudo.use_saliency=True) but the config "
                         'has no saliency source: set saliency_source (e.g. dict(type=\'FolderSaliency\')) and '
                         'saliency_dir')
    return source


def output_dirs(out_dir: Path, settings: dict) -> dict[str, Path]:
    dirs = {'seed': out_dir / 'seed', 'nocrf': out_dir / 'nocrf'}
    if settings['crf']:
        dirs['crf'] = out_dir / 'crf'
    if settings['save_cams']:
        dirs['cams'] = out_dir / 'cams'
    return dirs


#: settings that change how fast the labels are made, not what they are
_SPEED_KEYS = ('num_workers', 'device', 'save_cams')


def labels_stamp(cfg, checkpoint: str | Path, settings: dict) -> dict:
    """What the files of ``out_dir`` are made from (:mod:`wsss.engine.output_stamp`): the checkpoint's bytes,
    the model, the data and the pseudo-label settings (the saliency maps when the rule reads them)."""
    stamp = dict(checkpoint_sha256=file_sha256(checkpoint), model=cfg.model, data_root=str(cfg.data_root),
                 infer_dataset=cfg.get('infer_dataset'),
                 pseudo={k: v for k, v in settings.items() if k not in _SPEED_KEYS})
    if settings['use_saliency']:
        stamp.update(saliency_dir=cfg.get('saliency_dir'), saliency_source=cfg.get('saliency_source'))
    return stamp


def _is_done(image_id: str, dirs: dict[str, Path]) -> bool:
    return all((d / f'{image_id}{".npy" if k == "cams" else ".png"}').is_file() for k, d in dirs.items())


def _save_npy(path: Path, arr: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write_bytes(path, buf.getvalue())


class PseudoLabeler:
    """Everything needed to turn one image into its pseudo-label files (one per worker process)."""

    def __init__(self, cfg, checkpoint, out_dir: Path, settings: dict):
        self.settings = settings
        self.device = pick_device(settings['device'])
        self.model = load_trained(CAM_MODELS, cfg.model, checkpoint, self.device, channels_last(cfg))
        self.dataset = build_dataset(cfg, split=settings['split'], mode='infer',
                                     saliency=_saliency_for_rule(cfg, settings))
        self.seed_rule = PSEUDO_RULES.build(dict(type='EPSRule', bg_score=settings['seed_bg_score']))
        self.rule = PSEUDO_RULES.build(dict(settings['rule']))
        self.dirs = output_dirs(out_dir, settings)
        self.crf_params = CRFParams(**dict(settings['crf'])) if settings['crf'] else None

    @torch.no_grad()
    def process(self, index: int) -> None:
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
            # background + the image's present classes only (either backend): K = 1 + #present channels
            refined = crf_labels(image, probs, channels, self.crf_params, device=self.device)
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


def run(cfg, checkpoint: str | Path, out_dir: str | Path, split: Optional[str] = None,
        crf: Optional[bool] = None, num_workers: Optional[int] = None, limit: Optional[int] = None) -> dict:
    """Write pseudo-labels for ``split`` into ``out_dir``; returns the run record's sections (rank 0)."""
    rank, world = setup_distributed()
    settings = pseudo_settings(cfg)
    if split is not None:
        settings['split'] = split
    if crf is False:
        settings['crf'] = None
    elif crf is True and not settings['crf']:
        settings['crf'] = asdict(CRFParams.deeplab_v2())
    if num_workers is not None:
        settings['num_workers'] = num_workers
    cfg.pseudo = settings
    report = run_checks(cfg, data_inputs(cfg, settings, limit), 'make_pseudo')
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    logger = get_logger(out_dir, 'make_pseudo')
    dirs = output_dirs(out_dir, settings)
    check_output_stamp(out_dir, labels_stamp(cfg, checkpoint, settings),
                       has_files=any(d.is_dir() and any(d.iterdir()) for d in dirs.values()), warn=logger.warning)
    if rank == 0:
        dump_config(cfg, out_dir)
    if report is not None:
        logger.info(report.summary())
    dataset = build_dataset(cfg, split=settings['split'], mode='infer')
    ids = dataset.ids[:limit] if limit else dataset.ids
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
                # let the workers exit (leaving the block terminates them: their tqdm locks would be reported
                # as leaked semaphores at shutdown)
                pool.close()
                pool.join()
    if dist.is_distributed():
        dist.barrier()
    if rank != 0:
        return {}
    sections = evaluate_folders(cfg, ids, dirs, dataset)
    write_record(out_dir, 'make_pseudo', sections, config=config_source(cfg),
                 inputs={'checkpoint': str(checkpoint), 'data_root': str(cfg.data_root), 'split': settings['split'],
                         'saliency_dir': cfg.get('saliency_dir') if settings['use_saliency'] else None,
                         'num_images': len(ids)})
    for sec, m in sections.items():
        logger.info(f'{sec}: mIoU {m.get("mIoU", float("nan")):.2f} ' +
                    ' '.join(f'{k}={v:.3f}' for k, v in m.get('extra', {}).items()))
    return sections


def evaluate_folders(cfg, ids, dirs: dict[str, Path], dataset) -> dict:
    """mIoU of the seed / nocrf / crf folders against ground truth (when every mask exists), each with the
    statistics of the config's ``label_metrics`` (``LABEL_METRICS`` entries) in its ``extra``."""
    if not all((dataset.ann_dir / f'{i}.png').is_file() for i in ids):
        return {}
    metrics = [LABEL_METRICS.build(m) for m in cfg.get('label_metrics', None) or []]
    sections = {}
    for key, section in SECTIONS.items():
        if key not in dirs:
            continue
        m = evaluate_label_dir(dirs[key], dataset.ann_dir, ids)
        for metric in metrics:
            extra = metric(dirs[key], cfg.data_root, ids)
            if extra:
                m.setdefault('extra', {}).update(extra)
        sections[section] = m
    return sections
