#!/usr/bin/env python
"""Run the whole pipeline on the embedded synthetic VOC set on CPU and print the mIoU table.

Generates data/synthetic_voc (if absent), trains a plain CAM and EPS+SeeNet, makes pseudo-labels (seed,
before/after CRF), trains DeepLab-v2 on the EPS+SeeNet pseudo-labels, evaluates on val, and writes
<work-dir>/report.md and table.{md,csv}. Rerunning resumes where it stopped.
"""
from pathlib import Path

from wsss.drivers.demo import run_demo
from wsss.engine.cli import make_parser


def main(argv=None):
    p = make_parser(__doc__)
    p.add_argument('--work-dir', default='work_dirs/demo', help='where every stage writes its outputs')
    p.add_argument('--data-root', default='data/synthetic_voc', help='synthetic set location (made if absent)')
    p.add_argument('--num-workers', type=int, default=2, help='CPU processes for pseudo-labels')
    args = p.parse_args(argv)
    run_demo(args.work_dir, args.data_root, repo=Path(__file__).resolve().parents[1], num_workers=args.num_workers)


if __name__ == '__main__':
    main()
