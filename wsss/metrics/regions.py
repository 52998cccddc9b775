"""Region statistics on the synthetic data set: where do predictions (CAM pseudo-labels, segmenter outputs)
fire, measured against the region codes of ``SyntheticRegions/<id>.png``
(see :mod:`wsss.datasets.synthetic`: 0 plain background, 1 class context, 2 object body, 3 discriminative
part, 255 boundary ignore).

Definitions (``pred`` and ``gt`` are VOC label maps, 0 background, 1..20 classes, 255 ignore):

* ``context_fg_rate``: share of context pixels (code 1) predicted as any foreground class (1..20).
* ``background_fg_rate``: share of plain-background pixels (code 0) predicted foreground.
* ``body_recall`` / ``part_recall``: share of body (2) / part (3) pixels predicted as their GT class.
* ``fg_precision`` / ``fg_recall``: foreground (1..20) vs background, over pixels whose GT is not 255.

A prediction of 255 counts as "not foreground" and never as correct. A rate whose denominator is empty
is ``nan``. ``result()`` also returns the pixel counts behind each rate (``n_*``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image

from wsss.registry import LABEL_METRICS
from wsss.utils.io import read_label_png
from wsss.utils.region_codes import REGION_BACKGROUND, REGION_BODY, REGION_CONTEXT, REGION_PART, REGIONS_DIR
from wsss.utils.voc_meta import IGNORE_INDEX, NUM_CLASSES

GT_DIR = 'SegmentationClass'


def _is_fg(a: np.ndarray) -> np.ndarray:
    return (a >= 1) & (a <= NUM_CLASSES)


def _rate(num: int, den: int) -> float:
    return float(num) / float(den) if den > 0 else float('nan')


class RegionStats:
    """Accumulates region statistics over images; :meth:`result` gives the rates (see module docstring)."""

    _KEYS = ('context', 'context_fg', 'background', 'background_fg', 'body', 'body_hit', 'part', 'part_hit',
             'pred_fg', 'tp_fg', 'gt_fg')

    def __init__(self) -> None:
        self.counts = dict.fromkeys(self._KEYS, 0)
        self.num_images = 0

    def update(self, pred: np.ndarray, gt: np.ndarray, regions: np.ndarray, name: str = '') -> None:
        """Add one image: ``pred``, ``gt`` (H, W) label maps and ``regions`` (H, W) region codes."""
        pred, gt, regions = np.asarray(pred), np.asarray(gt), np.asarray(regions)
        where = f' ({name})' if name else ''
        if pred.ndim != 2 or gt.shape != pred.shape or regions.shape != pred.shape:
            raise ValueError(f'RegionStats.update{where}: shapes differ or are not 2-D: pred {pred.shape}, '
                             f'gt {gt.shape}, regions {regions.shape}')
        c = self.counts
        pred_fg = _is_fg(pred)
        ctx = regions == REGION_CONTEXT
        bg = regions == REGION_BACKGROUND
        body = regions == REGION_BODY
        part = regions == REGION_PART
        hit = (pred == gt) & _is_fg(gt)
        valid = gt != IGNORE_INDEX
        gt_fg = _is_fg(gt)
        c['context'] += int(ctx.sum())
        c['context_fg'] += int((ctx & pred_fg).sum())
        c['background'] += int(bg.sum())
        c['background_fg'] += int((bg & pred_fg).sum())
        c['body'] += int(body.sum())
        c['body_hit'] += int((body & hit).sum())
        c['part'] += int(part.sum())
        c['part_hit'] += int((part & hit).sum())
        c['pred_fg'] += int((valid & pred_fg).sum())
        c['tp_fg'] += int((valid & pred_fg & gt_fg).sum())
        c['gt_fg'] += int(gt_fg.sum())
        self.num_images += 1

    def result(self) -> dict:
        c = self.counts
        return dict(
            context_fg_rate=_rate(c['context_fg'], c['context']),
            background_fg_rate=_rate(c['background_fg'], c['background']),
            body_recall=_rate(c['body_hit'], c['body']),
            part_recall=_rate(c['part_hit'], c['part']),
            fg_precision=_rate(c['tp_fg'], c['pred_fg']),
            fg_recall=_rate(c['tp_fg'], c['gt_fg']),
            num_images=self.num_images,
            n_context=c['context'], n_background=c['background'], n_body=c['body'], n_part=c['part'],
            n_pred_fg=c['pred_fg'], n_gt_fg=c['gt_fg'],
        )


def read_regions(path: Path) -> np.ndarray:
    """A ``SyntheticRegions/<id>.png`` map as uint8 region codes; a clear error when it is missing."""
    if not path.is_file():
        raise FileNotFoundError(f'regions map not found: {path} (is this a synthetic data set? '
                                f'see tools/make_synthetic_voc.py)')
    with Image.open(path) as img:
        return np.asarray(img.convert('L') if img.mode not in ('L', 'P') else img).astype(np.uint8)


def region_stats(label_dir: str | os.PathLike, data_root: str | os.PathLike, ids: Iterable[str],
                 regions_dir: str = REGIONS_DIR, gt_dir: str = GT_DIR) -> dict:
    """Region statistics of the label PNGs ``label_dir/<id>.png`` against ``data_root``'s ``gt_dir`` and
    ``regions_dir``. Raises naming the file when one is missing or sizes differ."""
    label_dir, data_root = Path(label_dir), Path(data_root)
    stats = RegionStats()
    for i in ids:
        pred_path = label_dir / f'{i}.png'
        if not pred_path.is_file():
            raise FileNotFoundError(f'prediction not found: {pred_path}')
        pred = read_label_png(pred_path)
        gt_path = data_root / gt_dir / f'{i}.png'
        gt = read_label_png(gt_path)
        reg_path = data_root / regions_dir / f'{i}.png'
        regions = read_regions(reg_path)
        if pred.shape != gt.shape:
            raise ValueError(f'size mismatch: prediction {pred_path} is {pred.shape}, '
                             f'ground truth {gt_path} is {gt.shape}')
        if regions.shape != gt.shape:
            raise ValueError(f'size mismatch: regions map {reg_path} is {regions.shape}, '
                             f'ground truth {gt_path} is {gt.shape}')
        stats.update(pred, gt, regions, name=str(i))
    return stats.result()


@LABEL_METRICS.register_module()
class SyntheticRegionStats:
    """Region statistics of a label folder as an optional metric of the stages that evaluate label folders
    (pseudo-labels): a config plugs it in with ``label_metrics = [dict(type='SyntheticRegionStats')]`` and its
    rates land in each section's ``extra``. A data root without the regions folder (a VOC-format set made
    elsewhere) gives an empty result, so one config serves any VOC-format data root."""

    def __init__(self, regions_dir: str = REGIONS_DIR, gt_dir: str = GT_DIR):
        self.regions_dir, self.gt_dir = regions_dir, gt_dir

    def __call__(self, label_dir: str | os.PathLike, data_root: str | os.PathLike, ids: Iterable[str]) -> dict:
        if not (Path(data_root) / self.regions_dir).is_dir():
            return {}
        return region_stats(label_dir, data_root, ids, self.regions_dir, self.gt_dir)

    def __repr__(self) -> str:
        return f'SyntheticRegionStats(regions_dir={self.regions_dir!r}, gt_dir={self.gt_dir!r})'
