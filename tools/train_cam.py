#!/usr/bin/env python
"""Train a CAM classifier (plain CAM / EPS / SeeNet / EPS+SeeNet: the head is chosen by the config).

Example:
    python tools/train_cam.py configs/cam/eps_seenet_lite0_synthetic.py --work-dir work_dirs/cam
    python tools/train_cam.py configs/cam/eps_resnet38_voc.py \\
        --cfg-options data_root=/data/VOC2012 saliency_dir=SALImages
Multi-GPU: torchrun --nproc_per_node 2 tools/train_cam.py CONFIG (train_cfg.batch_size is the global batch).
Writes <work-dir>/final.pth, latest.pth (--resume), config.py, train.log, scalars.jsonl, metrics.json.
Before training, every file of the split is checked (tools/check_data.py; --no-check skips it), and
model.backbone.pretrained must be set (a weight file, or 'none' for random init on purpose).
"""
from wsss.engine.cli import parse_config, training_parser
from wsss.stages.cam import train


def main(argv=None):
    args, cfg = parse_config(training_parser(__doc__, data_check=True), argv)
    return train.run(cfg, args.work_dir, resume=args.resume, stop_at=args.stop_at)


if __name__ == '__main__':
    main()
