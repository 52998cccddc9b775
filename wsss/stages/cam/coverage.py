"""Coverage curve of a CAM classifier: how much of each synthetic region its seeds cover as the background
score rises. A part-focused CAM keeps covering the discriminative parts while it loses the object bodies;
a CAM that leaks onto context covers context more than other background at every score.
Needs a synthetic data root (``SyntheticRegions/``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from wsss.datasets import build_dataset
from wsss.engine.trainer import channels_last
from wsss.metrics.regions import RegionStats, read_regions
from wsss.models.loading import load_trained
from wsss.pseudo.cam_infer import multiscale_cam
from wsss.pseudo.rules import EPSRule
from wsss.registry import CAM_MODELS
from wsss.report.tables import markdown_table
from wsss.stages.pseudo.make import pseudo_settings
from wsss.utils.region_codes import REGIONS_DIR


@torch.no_grad()
def coverage_curve(cfg, checkpoint: str | Path, bg_scores: Sequence[float] = (0.2, 0.4, 0.6),
                   num_images: int = 100, split: str = 'train') -> dict[float, dict]:
    """``{bg_score: RegionStats.result()}`` of the CAM seeds (EPS rule, no saliency, no CRF) on the first
    ``num_images`` images of ``split`` of a synthetic set."""
    s = pseudo_settings(cfg)
    device = torch.device('cpu')
    model = load_trained(CAM_MODELS, cfg.model, checkpoint, device, channels_last(cfg))
    ds = build_dataset(cfg, split=split, mode='infer')
    regions_dir = Path(cfg.data_root) / REGIONS_DIR
    stats = {t: RegionStats() for t in bg_scores}
    for i in range(min(num_images, len(ds))):
        item = ds[i]
        image_id = item['meta']['id']
        cams = multiscale_cam(model, item['image'], scales=tuple(s['scales']), flip=bool(s['flip']),
                              fusion=getattr(model, 'flip_fusion', 'sum'), device=device,
                              cls_label=item['cls_label'])
        gt = ds.gt_mask(image_id)
        regions = read_regions(regions_dir / f'{image_id}.png')
        for t in bg_scores:
            label, _ = EPSRule(bg_score=t)(cams, item['cls_label'], None)
            stats[t].update(label, gt, regions, image_id)
    return {t: st.result() for t, st in stats.items()}


def coverage_table(curves: dict[str, dict[float, dict]]) -> str:
    """Markdown: per method and background score, body/part recall and context/other-background → fg."""
    rows = [[name, f'{t:.1f}', f"{r['body_recall']:.1%}", f"{r['part_recall']:.1%}", f"{r['context_fg_rate']:.1%}",
             f"{r['background_fg_rate']:.1%}"] for name, curve in curves.items() for t, r in curve.items()]
    return markdown_table(['CAM method', 'bg score', 'body recall', 'part recall', 'context → fg',
                           'other background → fg'], rows)
