#!/usr/bin/env python
"""Train a segmenter (DeepLab-v2 / LargeFOV / v3+ / SANet) on the label PNGs in ``label_dir``.

Labels are checked before training (missing files, values outside 0..20/255). After training the model
is evaluated on the val split (single scale) and <work-dir>/metrics.json is written.

Example:
    python tools/train_seg.py configs/seg/deeplabv2_lite0_synthetic.py --work-dir work_dirs/seg \\
        --cfg-options label_dir=$PWD/work_dirs/pseudo/crf
    torchrun --nproc_per_node 4 tools/train_seg.py configs/seg/deeplabv2_r101_voc.py \\
        --cfg-options data_root=/data/VOC2012 label_dir=/runs/eps/pseudo/crf
"""
import argparse

from wsss.engine.config import add_common_args, default_work_dir, load_config
from wsss.engine.seg import train_seg


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument('--work-dir', help='output folder; default work_dirs/<config name>')
    p.add_argument('--resume', action='store_true', help='continue from <work-dir>/latest.pth')
    p.add_argument('--stop-at', type=int, help='pause after this many iterations (resume later with --resume)')
    p.add_argument('--no-eval', action='store_true', help='skip the val evaluation after training')
    args = p.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    train_seg(cfg, args.work_dir or default_work_dir(args.config), resume=args.resume, stop_at=args.stop_at,
              evaluate=not args.no_eval)


if __name__ == '__main__':
    main()
