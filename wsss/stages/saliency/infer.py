"""Saliency stage, inference: maps of a trained saliency model for every image of a data set (official
InSPyReNet ``latest.pth`` / transparent-background ``ckpt_*.pth``, or our ``{'state_dict', 'meta'}``).

Maps go to ``out_dir`` (``<data_root>/saliency/<name>`` for a CAM config's ``saliency_dir='saliency/<name>'``),
one 8-bit PNG per image at its size (contract in :mod:`wsss.saliency.inference`). Batched, resumable (existing
maps are skipped; a rerun with another checkpoint or pre-processing is refused unless ``overwrite``,
:mod:`wsss.engine.output_stamp`), sharded over processes (``shard_rank``/``shard_world`` or torchrun's ``RANK``/``WORLD_SIZE``).
Pre-processing mode, blending threshold and ``L`` come from ``cfg.inference`` unless given. Each shard writes its
run record ``<out_dir>/_make_saliency_rank<r>.json`` (stage ``make_saliency``, section ``run``: counts, time).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional, Sequence

import torch

from wsss.engine.config import config_source
from wsss.engine.config_keys import Keys
from wsss.engine.dist import env_rank_world
from wsss.engine.output_stamp import check_output_stamp, file_sha256
from wsss.engine.records import write_record
from wsss.registry import CONFIG_SECTIONS
from wsss.saliency.inference import build_saliency_model, list_images, make_saliency_maps

#: the keys of ``cfg.inference`` (read here and by the saliency training stage's evaluation)
INFERENCE_KEYS = ('mode', 'threshold', 'L')


@CONFIG_SECTIONS.register_module()
def saliency_infer_sections(cfg) -> dict:
    """``inference``: pre-processing ``mode`` (static / dynamic / blend), blending ``threshold`` and ``L``."""
    return {'inference': Keys(INFERENCE_KEYS)}


def default_device() -> str:
    """This process's GPU when CUDA is there (``LOCAL_RANK`` under torchrun), else the CPU."""
    if not torch.cuda.is_available():
        return 'cpu'
    return f"cuda:{int(os.environ['LOCAL_RANK'])}" if 'LOCAL_RANK' in os.environ else 'cuda'


def run(cfg, checkpoint: str | Path, data_root: str | Path, out_dir: str | Path, split: Optional[str] = None,
        img_dir: Optional[str] = None, batch_size: int = 8, mode: Optional[str] = None,
        base_size: Optional[Sequence[int]] = None, threshold: Optional[int] = None, device: Optional[str] = None,
        amp: bool = False, tf32: bool = False, num_workers: int = 2, shard_rank: Optional[int] = None,
        shard_world: Optional[int] = None, overwrite: bool = False, progress: bool = True) -> dict:
    """Write this shard's maps into ``out_dir``; returns the counts (``written``, ``skipped``, ...)."""
    inf = dict(cfg.get('inference', None) or {})
    mode = mode or inf.get('mode', 'static')
    threshold = threshold if threshold is not None else inf.get('threshold', -1)
    rank, world = env_rank_world(shard_rank, shard_world)
    device = device or default_device()
    model = build_saliency_model(cfg, checkpoint, base_size)
    images = list_images(data_root, split, img_dir)
    out_dir = Path(out_dir)
    # the maps' inputs (not the split: one folder holds every split's maps)
    stamp = dict(checkpoint_sha256=file_sha256(checkpoint) if checkpoint else None, model=cfg.get('model'), mode=mode,
                 threshold=threshold, L=inf.get('L', 1280),
                 base_size=None if model.base_size is None else list(model.base_size))
    check_output_stamp(out_dir, stamp, has_files=out_dir.is_dir() and any(out_dir.glob('*.png')),
                       overwrite=overwrite, warn=print, hint='or rewrite every map: --overwrite')
    t0 = time.time()
    stats = make_saliency_maps(model, images, out_dir, mode=mode, threshold=threshold, L=inf.get('L', 1280),
                               batch_size=batch_size, device=device, amp=amp, tf32=tf32, num_workers=num_workers,
                               rank=rank, world_size=world, overwrite=overwrite, progress=progress)
    stats.update(seconds=round(time.time() - t0, 2), device=str(device))
    write_record(out_dir / f'_make_saliency_rank{rank}.json', 'make_saliency', {'run': stats},
                 name=out_dir.name, config=config_source(cfg),
                 inputs={'checkpoint': str(checkpoint), 'data_root': str(data_root), 'split': split})
    return stats
