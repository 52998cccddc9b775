#!/usr/bin/env python
"""Ablation: CAM methods (plain CAM, SeeNet, EPS, EPS+SeeNet) x saliency sources, one table.

Trains each CAM classifier, makes its pseudo-labels, and prints/saves <work-dir>/ablation.{md,csv} with seed
mIoU, pseudo-label mIoU without/with CRF, foreground precision/recall and the context-leak share.

Example (synthetic set, the shipped good/poor maps plus an InSPyReNet-made source):
    python tools/ablate.py --sources saliency/good saliency/poor saliency/inspyrenet
"""
from pathlib import Path

from wsss.drivers.ablation import METHODS, SOURCES, run_ablation
from wsss.engine.cli import make_parser


def main(argv=None):
    p = make_parser(__doc__)
    p.add_argument('--work-dir', default='work_dirs/ablation', help='one sub-folder per (method, source) run')
    p.add_argument('--data-root', default='data/synthetic_voc', help='VOC-format data set')
    p.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS, help='CAM methods to run')
    p.add_argument('--sources', nargs='+', default=list(SOURCES),
                   help='saliency folders (relative to data root) for the methods that use saliency')
    p.add_argument('--config-pattern', default='configs/cam/{method}_lite0_synthetic.py',
                   help='config path with {method} placeholder')
    p.add_argument('--num-workers', type=int, default=2, help='CPU processes for pseudo-labels')
    args = p.parse_args(argv)
    run_ablation(args.work_dir, args.data_root, args.methods, args.sources, args.config_pattern,
                 repo=Path(__file__).resolve().parents[1], num_workers=args.num_workers)


if __name__ == '__main__':
    main()
