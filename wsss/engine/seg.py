"""Stage 4: train a segmenter on (pseudo-)labels and evaluate it as the papers report.

``train_seg``: labels from the top-level ``label_dir`` (relative to ``data_root`` or absolute), checked
before training starts (missing files and values outside 0..20/255 are listed by name); after training,
the model is evaluated on ``cfg.evaluation.split`` (single scale) and ``metrics.json`` is written.

``eval_seg``: single-scale, multi-scale + flip (``--ms``/``--flip``) and dense-CRF post-processing
(DeepLab-v2 VOC settings) by flags; each ``torchrun`` rank evaluates a shard and the confusion matrices
are summed. ``--split test`` (no ground truth) writes the VOC test-server layout
``<out_dir>/results/VOC2012/Segmentation/comp6_test_cls/<id>.png``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine import dist
from tqdm import tqdm

from wsss.datasets.voc import resolve_dir
from wsss.engine.config import dump_config
from wsss.engine.dist import pick_device, setup_distributed, shard
from wsss.engine.trainer import IterTrainer, get_logger
from wsss.registry import DATASETS, SEGMENTERS
from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, strip_prefix
from wsss.utils.imaging import normalize
from wsss.utils.io import atomic_write_json, save_label_png
from wsss.utils.seed import set_seed

#: multi-scale inference scales of ``eval_seg --ms`` (DeepLab / EPS evaluation)
MS_SCALES = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)


def train_seg(cfg, work_dir: str | Path, resume: bool = False, stop_at: Optional[int] = None,
              evaluate: bool = True) -> dict:
    from wsss.engine.label_eval import validate_label_dir
    set_seed(int(cfg.train_cfg.get('seed', 0)))
    if not cfg.get('label_dir'):
        raise ValueError('set label_dir=... (a folder of label PNGs: pseudo-labels, or SegmentationClass)')
    label_dir = Path(resolve_dir(cfg.data_root, cfg.label_dir)).resolve()  # absolute: the dataset must not re-join it
    dataset = DATASETS.build({'data_root': cfg.data_root, **dict(cfg.train_dataset), 'mode': 'seg',
                              'label_dir': str(label_dir)})
    validate_label_dir(label_dir, dataset.ids)
    model = SEGMENTERS.build(cfg.model)
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, work_dir)
    trainer = IterTrainer(model, dataset, cfg, work_dir, meta={'stage': 'seg', 'model': cfg.model['type']})
    trainer.log(f'training labels: {label_dir}')
    last = trainer.train(resume=resume, stop_at=stop_at)
    if stop_at is not None and stop_at < int(cfg.train_cfg['max_iters']):
        return last
    if not evaluate:
        return last
    ev = dict(cfg.get('evaluation', {}))
    return eval_seg(cfg, work_dir / 'final.pth', out_dir=work_dir, split=ev.get('split', 'val'),
                    model=trainer.model, save_png=False)


def load_segmenter(cfg, checkpoint: str | Path, device: torch.device):
    model = SEGMENTERS.build(cfg.model)
    state = strip_prefix(extract_state_dict(load_checkpoint_file(checkpoint), checkpoint))
    load_state_dict_checked(model, state, checkpoint, strict=True)
    return model.to(device).eval()


@torch.no_grad()
def predict_probs(model, image: np.ndarray, scales: Sequence[float] = (1.0,), flip: bool = False,
                  device: torch.device = torch.device('cpu')) -> torch.Tensor:
    """Softmax probabilities (21, H, W): average over scales (bilinear resize) and horizontal flips."""
    h, w = image.shape[:2]
    x = torch.from_numpy(normalize(image))[None].to(device)
    probs = []
    for s in scales:
        xs = x if s == 1.0 else F.interpolate(x, size=(max(1, round(h * s)), max(1, round(w * s))),
                                              mode='bilinear', align_corners=False)
        passes = [xs, xs.flip(-1)] if flip else [xs]
        for k, inp in enumerate(passes):
            logits = model.predict(inp)
            if k == 1:
                logits = logits.flip(-1)
            probs.append(F.interpolate(logits, size=(h, w), mode='bilinear', align_corners=False).softmax(1)[0])
    return (sum(probs) / len(probs)).cpu()


def eval_seg(cfg, checkpoint: str | Path, out_dir: Optional[str | Path] = None, split: str = 'val',
             scales: Sequence[float] = (1.0,), flip: bool = False, crf: bool = False, save_png: bool = True,
             model=None, device: str = 'auto', section: Optional[str] = None) -> dict:
    """Evaluate a segmenter; returns the metrics dict (rank 0) and writes ``metrics.json`` in ``out_dir``."""
    from wsss.metrics.iou import ConfusionMatrix
    rank, world = setup_distributed()
    dev = pick_device(device)
    if model is None:
        model = load_segmenter(cfg, checkpoint, dev)
    model = model.to(dev).eval()
    dataset = DATASETS.build({'data_root': cfg.data_root, **dict(cfg.get('infer_dataset', {})), 'split': split,
                              'mode': 'infer', 'require_masks': False})
    has_gt = all((dataset.ann_dir / f'{i}.png').is_file() for i in dataset.ids)
    out_dir = Path(out_dir) if out_dir is not None else Path(checkpoint).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    section = section or ('ms' if len(scales) > 1 else 'ss') + ('_flip' if flip else '') + ('_crf' if crf else '')
    png_dir = out_dir / (f'pred_{split}_{section}' if has_gt else 'results/VOC2012/Segmentation/comp6_test_cls')
    logger = get_logger(out_dir, 'eval_seg')
    crf_params = None
    if crf:
        from wsss.crf import CRFParams, dense_crf
        crf_params = CRFParams.deeplab_v2()
    cm = ConfusionMatrix(num_classes=21)
    indices = shard(list(range(len(dataset))), rank, world)
    for i in tqdm(indices, desc=f'eval {split} {section}', disable=None if rank == 0 else True, mininterval=2):
        item = dataset[i]
        image, image_id = item['image'], item['meta']['id']
        probs = predict_probs(model, image, scales, flip, dev)
        if crf_params is not None:
            probs = torch.from_numpy(dense_crf(image, probs.numpy().astype(np.float32), crf_params))
        pred = probs.argmax(0).numpy().astype(np.uint8)
        if save_png or not has_gt:
            save_label_png(png_dir / f'{image_id}.png', pred)
        if has_gt:
            cm.update(pred, dataset.gt_mask(image_id))
    if dist.is_distributed():
        cm.all_reduce()
    if rank != 0:
        return {}
    metrics = {'name': out_dir.name, 'stage': 'eval_seg', 'split': split, 'checkpoint': str(checkpoint),
               'num_images': len(dataset), 'sections': {}}
    metrics_path = out_dir / 'metrics.json'
    if metrics_path.is_file():  # keep other sections (single-scale, ms+flip+crf) of the same run
        import json
        old = json.loads(metrics_path.read_text())
        metrics['sections'] = old.get('sections', {})
    if has_gt:
        res = cm.compute()
        res['extra'] = {'scales': list(scales), 'flip': flip, 'crf': crf}
        metrics['sections'][f'{split}_{section}'] = res
        logger.info(f'{split} {section}: mIoU {res["mIoU"]:.2f} over {len(dataset)} images')
    else:
        logger.info(f'{split}: no ground truth; predictions written to {png_dir}')
    atomic_write_json(metrics_path, metrics)
    return metrics


