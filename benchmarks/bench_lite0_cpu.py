#!/usr/bin/env python
"""EfficientNet-Lite0 on CPU: what the synthetic recipe's speed settings buy, each against its baseline in one run.

1. Truncated backbone: the CAM backbone (levels 0-3, OS 8, stem + levels 0-2 frozen) forward + backward from
   level 3, built with ``out_indices=(0, 1, 2, 3)`` (blocks 5-6 removed) against the five-level model, which runs
   every block (what timm's feature model did for the CAM before the truncation).
2. Memory format: one training step (``model.loss`` + AdamW) of each synthetic CAM config and of DeepLab-v2, and
   the multi-scale CAM inference of one image (scales 1, 1.5, flip), NCHW against channels_last.

Batches are the shipped configs' own (16 crops of the synthetic set; generated if absent). Variants alternate
round by round and each reports the median time of its rounds; ratios are baseline / variant (> 1 = faster).

    python benchmarks/bench_lite0_cpu.py --rounds 5 --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
CAM_CONFIGS = ['configs/cam/cam_lite0_synthetic.py', 'configs/cam/eps_lite0_synthetic.py',
               'configs/cam/seenet_lite0_synthetic.py', 'configs/cam/eps_seenet_lite0_synthetic.py']
SEG_CONFIG = 'configs/seg/deeplabv2_lite0_synthetic.py'
FORMATS = {'nchw': torch.contiguous_format, 'channels_last': torch.channels_last}


def _timed(fn, steps: int) -> float:
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t) / steps


def compare(variants: dict, rounds: int, steps: int) -> dict:
    """Median seconds per call of each variant (a zero-argument callable), the variants alternating per round;
    the first call of each is a warm-up."""
    for fn in variants.values():
        fn()
    times = {k: [] for k in variants}
    for _ in range(rounds):
        for k, fn in variants.items():
            times[k].append(_timed(fn, steps))
    return {k: statistics.median(v) for k, v in times.items()}


def _report(name: str, med: dict) -> dict:
    base, new = med.values()
    row = {**{f'{k}_s': round(v, 4) for k, v in med.items()}, 'speed-up': round(base / new, 2)}
    print(f'{name:48s} ' + '  '.join(f'{k} {v * 1000:7.1f} ms' for k, v in med.items())
          + f'  speed-up {base / new:.2f}x', flush=True)
    return row


def truncation(rounds: int, steps: int) -> dict:
    from wsss.models.backbones.efficientnet_lite import EfficientNetLite0
    kw = dict(output_stride=8, pretrained=True, frozen_stages=3, norm_eval=True)
    models = {'five levels': EfficientNetLite0(**kw).train(),
              'levels 0-3': EfficientNetLite0(out_indices=(0, 1, 2, 3), **kw).train()}
    x = torch.randn(16, 3, 128, 128)

    def step(m):
        def run():
            m.zero_grad(set_to_none=True)
            m(x)[3].square().mean().backward()
        return run
    return _report('CAM backbone fwd + bwd (batch 16, 128 px)', compare({k: step(m) for k, m in models.items()},
                                                                         rounds, steps))


def _train_batch(cfg, mode: str, saliency=None, label_dir=None) -> dict:
    from wsss.datasets import build_dataset
    from wsss.engine.trainer import collate
    kw = {'label_dir': label_dir} if label_dir else {}
    ds = build_dataset(cfg, 'train_dataset', mode=mode, saliency=saliency, **kw)
    return collate([ds[i] for i in range(int(cfg.train_cfg.batch_size))])


def train_steps(cfg_path: str, registry, mode: str, rounds: int, steps: int) -> dict:
    from mmengine.config import Config
    from wsss.saliency.sources import build_saliency_source
    cfg = Config.fromfile(str(ROOT / cfg_path))
    torch.manual_seed(0)
    model = registry.build(cfg.model).train()
    needs_sal = getattr(model, 'needs_saliency', False)
    batch = _train_batch(cfg, mode, build_saliency_source(cfg) if needs_sal else None,
                         'SegmentationClass' if mode == 'seg' else None)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)

    def step(fmt):
        b = dict(batch, img=batch['img'].contiguous(memory_format=fmt))

        def run():
            model.to(memory_format=fmt)
            losses = model.loss(b)
            opt.zero_grad(set_to_none=True)
            sum(v for k, v in losses.items() if k.startswith('loss')).backward()
            opt.step()
        return run
    return _report(f'train step {Path(cfg_path).stem}', compare({k: step(f) for k, f in FORMATS.items()},
                                                                rounds, steps))


def cam_inference(rounds: int, steps: int) -> dict:
    from mmengine.config import Config
    from PIL import Image
    from wsss.pseudo.cam_infer import multiscale_cam
    from wsss.registry import CAM_MODELS
    cfg = Config.fromfile(str(ROOT / CAM_CONFIGS[-1]))
    torch.manual_seed(0)
    model = CAM_MODELS.build(cfg.model).eval()
    root = Path(cfg.data_root)
    image_id = (root / 'ImageSets/Segmentation/train.txt').read_text().split()[0]
    image = np.asarray(Image.open(root / 'JPEGImages' / f'{image_id}.jpg').convert('RGB'))

    def infer(fmt):
        def run():
            model.to(memory_format=fmt)
            multiscale_cam(model, image, scales=tuple(cfg.pseudo.scales), flip=True)
        return run
    return _report('CAM inference, one image (EPS + SeeNet)', compare({k: infer(f) for k, f in FORMATS.items()},
                                                                      rounds, steps))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--rounds', type=int, default=5, help='alternating rounds per comparison (median reported)')
    p.add_argument('--steps', type=int, default=2, help='calls per round')
    p.add_argument('--json', help='write the results here')
    args = p.parse_args()
    os.chdir(ROOT)
    from wsss.datasets.synthetic import ensure_synthetic
    from wsss.registry import CAM_MODELS, SEGMENTERS
    ensure_synthetic('data/synthetic_voc')
    results = {'threads': torch.get_num_threads(), 'torch': torch.__version__,
               'truncation': truncation(args.rounds, args.steps)}
    for c in CAM_CONFIGS:
        results[Path(c).stem] = train_steps(c, CAM_MODELS, 'cam', args.rounds, args.steps)
    results[Path(SEG_CONFIG).stem] = train_steps(SEG_CONFIG, SEGMENTERS, 'seg', args.rounds, args.steps)
    results['cam_inference'] = cam_inference(args.rounds, args.steps * 4)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
