#!/usr/bin/env python
"""Write the synthetic VOC-format data set (the project's embedded default data set).

    python tools/make_synthetic_voc.py data/synthetic_voc
    python tools/make_synthetic_voc.py OUT_DIR --num-train 400 --num-val 150 --num-sod 300 --size 128 --seed 0

Deterministic for given arguments (same bytes twice). See the package wsss/datasets/synthetic/ and the
README.md it writes into OUT_DIR for the layout and the design rules.
"""
from __future__ import annotations

from wsss.datasets.synthetic import DEFAULTS, generate
from wsss.engine.cli import make_parser


def main(argv=None) -> int:
    ap = make_parser(__doc__)
    ap.add_argument('out_dir', metavar='OUT_DIR', help='data set root to write (VOC layout)')
    ap.add_argument('--num-train', type=int, default=DEFAULTS['num_train'], help='train images (%(default)s)')
    ap.add_argument('--num-val', type=int, default=DEFAULTS['num_val'], help='val images (%(default)s)')
    ap.add_argument('--num-sod', type=int, default=DEFAULTS['num_sod'],
                    help='DUTS-layout salient-object images, split 80/20 (%(default)s)')
    ap.add_argument('--size', type=int, default=DEFAULTS['size'], help='image side in px (%(default)s)')
    ap.add_argument('--seed', type=int, default=DEFAULTS['seed'], help='seed (%(default)s)')
    ap.add_argument('--voc-aug', action='store_true',
                    help='also the VOC-aug layout of the VOC configs (SegmentationClassAug/, train_aug.txt = train)')
    ap.add_argument('--workers', type=int, default=None,
                    help='rendering processes (default: one per core, at most 8; 1 for fewer than 100 images); '
                         'the bytes written do not depend on it')
    ap.add_argument('--quiet', action='store_true', help='no progress lines')
    a = ap.parse_args(argv)
    summary = generate(a.out_dir, num_train=a.num_train, num_val=a.num_val, num_sod=a.num_sod, size=a.size,
                       seed=a.seed, verbose=not a.quiet, voc_aug=a.voc_aug, workers=a.workers)
    print(f"wrote {summary['root']}: {summary['train']} train, {summary['val']} val, {summary['sod']} sod "
          f"in {summary['seconds']} s")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
