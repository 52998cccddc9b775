#!/usr/bin/env python
"""Train a CAM classifier (plain CAM / EPS / SeeNet / EPS+SeeNet, chosen by the config).

Example:
    python tools/train_cam.py configs/cam/eps_seenet_lite0_synthetic.py --work-dir work_dirs/cam
    python tools/train_cam.py configs/cam/eps_resnet38_voc.py \\
        --cfg-options data_root=/data/VOC2012 saliency_dir=saliency/pfan
Multi-GPU: torchrun --nproc_per_node 2 tools/train_cam.py CONFIG (train_cfg.batch_size is the global batch).
"""
import argparse

from wsss.engine.config import add_common_args, default_work_dir, load_config
from wsss.engine.train_cam import train_cam


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(p)
    p.add_argument('--work-dir', help='output folder (checkpoints, log, config, metrics.json); '
                                      'default work_dirs/<config name>')
    p.add_argument('--resume', action='store_true', help='continue from <work-dir>/latest.pth')
    p.add_argument('--stop-at', type=int, help='pause after this many iterations (resume later with --resume)')
    args = p.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    train_cam(cfg, args.work_dir or default_work_dir(args.config), resume=args.resume, stop_at=args.stop_at)


if __name__ == '__main__':
    main()
