#!/usr/bin/env python
"""Saliency-source ablation: one CAM method with each saliency source, one table (SOD quality of the maps,
seed / pseudo-label mIoU, optionally the segmenter's val mIoU).

Sources (--sources, each NAME=SPEC):
    NAME=folder:DIR                    precomputed maps, DIR relative to the data root (or absolute)
    NAME=model:CONFIG[@CHECKPOINT]     a saliency model of ours; trained first on --sod-root when no checkpoint
                                       is given, then its maps of every image are made into <work-dir>/NAME/maps
    NAME=none                          no saliency: the row is --none-config (default plain CAM)

Example (synthetic set; the default sources: InSPyReNet and BiRefNet trained here, the shipped good and poor
folders, none):
    python tools/ablate_saliency.py --work-dir work_dirs/saliency_ablation
Every step is resumable; the table goes to <work-dir>/saliency_ablation.{md,csv}.
"""
from pathlib import Path

from wsss.drivers.saliency_ablation import (DEFAULT_CAM_CONFIG, DEFAULT_DATA_ROOT, DEFAULT_NONE_CONFIG,
                                            DEFAULT_SOURCES, run_saliency_ablation)
from wsss.engine.cli import make_parser


def main(argv=None):
    p = make_parser(__doc__)
    p.add_argument('--work-dir', default='work_dirs/saliency_ablation', help='one sub-folder per saliency source')
    p.add_argument('--data-root', default=DEFAULT_DATA_ROOT,
                   help='VOC-format data set (the default synthetic set is generated when absent)')
    p.add_argument('--sources', nargs='+', default=list(DEFAULT_SOURCES), help='saliency sources, NAME=SPEC (above)')
    p.add_argument('--cam-config', default=DEFAULT_CAM_CONFIG, help='the CAM method trained with every source')
    p.add_argument('--none-config', default=DEFAULT_NONE_CONFIG,
                   help="CAM config of the 'none' row (a method that needs no saliency)")
    p.add_argument('--seg-config', default=None,
                   help='segmenter config: also train it on each source\'s final pseudo-labels and report val mIoU')
    p.add_argument('--sod-root', default=None,
                   help='DUTS-layout training set of the model sources (default <data-root>/sod)')
    p.add_argument('--num-workers', type=int, default=2, help='CPU processes for pseudo-labels')
    a = p.parse_args(argv)
    run_saliency_ablation(a.work_dir, a.data_root, a.sources, a.cam_config, a.none_config, a.seg_config,
                          a.sod_root, repo=Path(__file__).resolve().parents[1], num_workers=a.num_workers)


if __name__ == '__main__':
    main()
