"""Segmenter stage, evaluation: single scale, multi-scale + flip and dense-CRF post-processing (DeepLab-v2 VOC
settings); mIoU exactly as mmsegmentation's IoUMetric (:mod:`wsss.metrics.iou`).

Each ``torchrun`` rank evaluates a shard and the confusion matrices are summed. Results are added as section
``<split>_<ss|ms>[_flip][_crf]`` of ``<out_dir>/metrics.json`` (stage ``eval_seg``), so the evaluations of one
run share one record. ``split='test'`` (no ground truth) writes the VOC test-server layout
``<out_dir>/results/VOC2012/Segmentation/comp6_test_cls/<id>.png``.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine import dist
from tqdm import tqdm

from wsss.crf import CRFParams, dense_crf, resolve_backend
from wsss.datasets import build_dataset
from wsss.engine.config import config_source
from wsss.engine.dist import pick_device, setup_distributed, shard
from wsss.datasets.checks import SplitInputs, run_checks, voc_split_inputs
from wsss.engine.logging import get_logger
from wsss.engine.records import read_record, record_path, update_section
from wsss.engine.trainer import channels_last
from wsss.metrics.iou import ConfusionMatrix
from wsss.models.loading import load_trained
from wsss.registry import SEGMENTERS
from wsss.utils.imaging import normalize
from wsss.utils.io import save_label_png

#: multi-scale inference scales of ``eval_seg --ms`` (DeepLab / EPS evaluation)
MS_SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)


def default_crf_workers() -> int:
    """CRF processes of ``eval_seg --crf`` on CPU when not given: one per core (at most 16)."""
    return max(1, min(16, os.cpu_count() or 1))


def crf_label(image: np.ndarray, probs: np.ndarray, params: CRFParams, device='cpu') -> np.ndarray:
    """uint8 ``(H, W)`` argmax of the dense CRF of ``probs`` ``(21, H, W)`` (one process-pool task on CPU)."""
    return dense_crf(image, probs.astype(np.float32), params, device=device).argmax(0).astype(np.uint8)


def _crf_task(job) -> np.ndarray:
    return crf_label(*job)


def _init_crf_worker() -> None:
    torch.set_num_threads(1)   # one core per CRF process (the torch backend on CPU)


@torch.no_grad()
def predict_probs(model, image: np.ndarray, scales: Sequence[float] = (1.0,), flip: bool = False,
                  device: torch.device = torch.device('cpu'), msc_max: bool = False) -> torch.Tensor:
    """Softmax probabilities (21, H, W): average over scales (bilinear resize) and horizontal flips. With
    ``msc_max`` each pass is deeplab-pytorch's multi-scale max fusion (``model.predict_msc_max``)."""
    h, w = image.shape[:2]
    x = torch.from_numpy(normalize(image))[None].to(device)
    probs = []
    for s in scales:
        xs = x if s == 1.0 else F.interpolate(x, size=(max(1, round(h * s)), max(1, round(w * s))),
                                              mode='bilinear', align_corners=False)
        passes = [xs, xs.flip(-1)] if flip else [xs]
        for k, inp in enumerate(passes):
            logits = model.predict_msc_max(inp) if msc_max else model.predict(inp)
            if k == 1:
                logits = logits.flip(-1)
            probs.append(F.interpolate(logits, size=(h, w), mode='bilinear', align_corners=False).softmax(1)[0])
    return (sum(probs) / len(probs)).cpu()


def section_name(split: str, scales: Sequence[float], flip: bool, crf: bool, msc_max: bool = False) -> str:
    """``<split>_<ss|ms|mscmax>[_flip][_crf]``: the record section of one evaluation protocol."""
    mode = 'mscmax' if msc_max else 'ms' if len(scales) > 1 else 'ss'
    return f'{split}_{mode}' + ('_flip' if flip else '') + ('_crf' if crf else '')


def has_section(out_dir: str | Path, section: str) -> bool:
    """Whether the run record in ``out_dir`` already holds ``section`` (a finished evaluation)."""
    return record_path(out_dir).is_file() and section in read_record(out_dir).sections


def data_inputs(cfg, split: str) -> list[Optional[SplitInputs]]:
    """What an evaluation reads: the images of ``split`` (``infer_dataset``) and its masks as ground truth (when
    every id has one; without, as the VOC test split, predictions are only written)."""
    return [voc_split_inputs(cfg, 'infer_dataset', 'segmenter evaluation: infer_dataset', split=split,
                             image_labels=False, eval_gt=True)]


def run(cfg, checkpoint: str | Path, out_dir: Optional[str | Path] = None, split: str = 'val',
        scales: Sequence[float] = (1.0,), flip: bool = False, crf: bool = False, save_png: bool = True,
        model=None, device: str = 'auto', msc_max: bool = False, check: bool = True,
        crf_backend: Optional[str] = None, crf_workers: Optional[int] = None) -> dict:
    """Evaluate a segmenter; returns the record's sections (rank 0) and writes ``metrics.json`` in ``out_dir``
    (default: the checkpoint's folder). ``msc_max``: deeplab-pytorch's test protocol (max over the scales
    1 / 0.75 / 0.5 of the network's logits), exclusive with ``scales``. ``check``: check the split's files first
    (unless ``check_data=False``; the training stage, which checked them before training, passes False).

    ``crf_backend``: ``'pydensecrf'``, ``'torch'`` or ``'auto'`` (default: torch on CUDA, pydensecrf on CPU).
    A CRF on the CPU runs in a pool of ``crf_workers`` processes (default :func:`default_crf_workers`) while the
    main process runs the network; ``crf_workers=0`` runs it in the main loop (the reference the pool must
    equal, and the mode of the torch backend on CUDA, which always runs there)."""
    if msc_max and len(scales) > 1:
        raise ValueError('msc_max is its own multi-scale protocol: give scales=(1.0,) with it')
    report = run_checks(cfg, data_inputs(cfg, split), 'eval_seg') if check else None
    rank, world = setup_distributed()
    dev = pick_device(device)
    if model is None:
        model = load_trained(SEGMENTERS, cfg.model, checkpoint, dev, channels_last(cfg))
    model = model.to(dev).eval()
    dataset = build_dataset(cfg, split=split, mode='infer', require_masks=False)
    has_gt = all((dataset.ann_dir / f'{i}.png').is_file() for i in dataset.ids)
    out_dir = Path(out_dir) if out_dir is not None else Path(checkpoint).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    section = section_name(split, scales, flip, crf, msc_max)
    png_dir = out_dir / (f'pred_{section}' if has_gt else 'results/VOC2012/Segmentation/comp6_test_cls')
    logger = get_logger(out_dir, 'eval_seg')
    if report is not None:
        logger.info(report.summary())
    crf_params = CRFParams.deeplab_v2(backend=crf_backend or 'auto') if crf else None
    crf_dev = dev if crf and resolve_backend(crf_params.backend, dev) == 'torch' and dev.type == 'cuda' else 'cpu'
    workers = default_crf_workers() if crf_workers is None else int(crf_workers)
    use_pool = crf and crf_dev == 'cpu' and workers > 0
    cm = ConfusionMatrix(num_classes=21)

    def finish(image_id: str, pred: np.ndarray) -> None:
        if save_png or not has_gt:
            save_label_png(png_dir / f'{image_id}.png', pred)
        if has_gt:
            cm.update(pred, dataset.gt_mask(image_id))

    indices = shard(list(range(len(dataset))), rank, world)
    pool = mp.get_context('spawn').Pool(workers, initializer=_init_crf_worker) if use_pool else None
    pending = deque()   # (id, AsyncResult) in dataset order: results land exactly as the serial loop's
    try:
        for i in tqdm(indices, desc=f'eval {section}', disable=None if rank == 0 else True, mininterval=2):
            item = dataset[i]
            image, image_id = item['image'], item['meta']['id']
            probs = predict_probs(model, image, scales, flip, dev, msc_max)
            if pool is not None:
                pending.append((image_id, pool.apply_async(_crf_task, ((image, probs.numpy(), crf_params),))))
                while len(pending) > 2 * workers:
                    image_id, res = pending.popleft()
                    finish(image_id, res.get())
            elif crf_params is not None:
                finish(image_id, crf_label(image, probs.numpy(), crf_params, crf_dev))
            else:
                finish(image_id, probs.argmax(0).numpy().astype(np.uint8))
        while pending:
            image_id, res = pending.popleft()
            finish(image_id, res.get())
    finally:
        if pool is not None:
            if pending:       # interrupted: drop the queued tasks
                pool.terminate()
            else:
                pool.close()
            pool.join()
    if dist.is_distributed():
        cm.all_reduce()
    if rank != 0:
        return {}
    if not has_gt:
        logger.info(f'{split}: no ground truth; predictions written to {png_dir}')
        return {}
    res = cm.compute()
    res['extra'] = {'scales': list(scales), 'flip': flip, 'crf': crf, 'msc_max': msc_max}
    if crf:
        res['extra']['crf_backend'] = resolve_backend(crf_params.backend, crf_dev)
    rec = update_section(out_dir, 'eval_seg', section, res, config=config_source(cfg),
                         inputs={'checkpoint': str(checkpoint), 'data_root': str(cfg.data_root),
                                 'label_dir': cfg.get('label_dir')})
    logger.info(f'{section}: mIoU {res["mIoU"]:.2f} over {len(dataset)} images')
    return rec.sections
