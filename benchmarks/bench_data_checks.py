#!/usr/bin/env python
"""Cost of the stages' input checks (``wsss.datasets.checks``): seconds per image id, on a given VOC-format set and
on a VOC-sized stand-in (500x375 JPEGs of VOC's file size, palette masks, grey saliency maps) written to a
temporary folder, extrapolated to VOC train_aug (10,582 ids).

    python benchmarks/bench_data_checks.py --data-root data/synthetic_voc            # + the VOC-sized stand-in
    python benchmarks/bench_data_checks.py --voc-sized 300 --workers 1 2 4 8
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from wsss.datasets.checks import SplitInputs, check_inputs
from wsss.utils.io import save_gray_png, save_label_png

VOC_TRAIN_AUG = 10582


def write_voc_sized(root: Path, n: int, seed: int = 0) -> Path:
    """``n`` ids of 500x375 images (smooth content + noise, JPEG quality 90: ~100 KB, as VOC), masks, saliency."""
    rng = np.random.default_rng(seed)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    (root / 'JPEGImages').mkdir()
    ids = [f'2008_{i:06d}' for i in range(n)]
    (root / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('\n'.join(ids) + '\n')
    yy, xx = np.mgrid[0:375, 0:500]
    for k, i in enumerate(ids):
        base = np.stack([np.sin(xx / (20 + k % 7) + c) * np.cos(yy / (15 + c * 3)) for c in range(3)], -1)
        img = np.clip(127 + 90 * base + rng.normal(0, 18, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / 'JPEGImages' / f'{i}.jpg', quality=90)
        mask = np.zeros((375, 500), np.uint8)
        mask[80:300, 100:400] = 1 + k % 20
        mask[78:80, 100:400] = 255
        save_label_png(root / 'SegmentationClass' / f'{i}.png', mask)
        save_gray_png(root / 'saliency' / f'{i}.png', ((mask > 0) * 200 + rng.integers(0, 40, mask.shape)).astype(
            np.uint8))
    return root


def measure(root: Path, split: str, workers: int, saliency: str | None, repeats: int = 3) -> tuple[float, int]:
    """Best of ``repeats`` (seconds, ids) of the CAM-training check: images, masks (labels), saliency maps."""
    inp = SplitInputs('bench', root, root / 'ImageSets' / 'Segmentation' / f'{split}.txt', root / 'JPEGImages',
                      root / 'SegmentationClass', saliency_dir=root / saliency if saliency else None)
    best, n = float('inf'), 0
    for _ in range(repeats):
        t = time.perf_counter()
        report = check_inputs([inp], workers=workers)
        best = min(best, time.perf_counter() - t)
        assert report.ok, report.format()
        n = report.counts.get('images', 0)
    return best, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-root', help='a VOC-format set to time (e.g. data/synthetic_voc)')
    ap.add_argument('--split', default='train')
    ap.add_argument('--saliency-dir', default='saliency/good')
    ap.add_argument('--voc-sized', type=int, default=200, help='ids of the VOC-sized stand-in (0: none)')
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    args = ap.parse_args()
    for w in args.workers:
        if args.data_root:
            s, n = measure(Path(args.data_root), args.split, w, args.saliency_dir)
            print(f'{args.data_root} {args.split}: {n} ids in {s:.2f} s ({1e3 * s / n:.2f} ms/id), {w} thread(s)')
    if args.voc_sized:
        with tempfile.TemporaryDirectory() as tmp:
            root = write_voc_sized(Path(tmp) / 'voc', args.voc_sized)
            kb = sum(p.stat().st_size for p in (root / 'JPEGImages').glob('*.jpg')) / args.voc_sized / 1024
            for w in args.workers:
                s, n = measure(root, 'train', w, 'saliency')
                print(f'VOC-sized stand-in (500x375, {kb:.0f} KB JPEGs): {n} ids in {s:.2f} s '
                      f'({1e3 * s / n:.2f} ms/id), {w} thread(s) -> VOC train_aug ({VOC_TRAIN_AUG} ids) ~{s / n * VOC_TRAIN_AUG:.0f} s')


if __name__ == '__main__':
    main()
