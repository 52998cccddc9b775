#!/usr/bin/env python
"""Train a segmenter (DeepLab-v2 / LargeFOV / v3+ / SANet) on the label PNGs in the config's ``label_dir``.

Before training, every file it reads is checked, all problems listed at once (images, labels: missing, values
outside 0..20/255, wrong size; tools/check_data.py; --no-check skips it), and model.backbone.pretrained must be
set. After training the model is evaluated on the val split (single scale) and <work-dir>/metrics.json is written.

Example:
    python tools/train_seg.py configs/seg/deeplabv2_lite0_synthetic.py --work-dir work_dirs/seg \\
        --cfg-options label_dir=$PWD/work_dirs/pseudo/crf
    torchrun --nproc_per_node 4 tools/train_seg.py configs/seg/deeplabv2_r101_voc.py \\
        --cfg-options data_root=/data/VOC2012 label_dir=/runs/eps/pseudo/crf
"""
from wsss.engine.cli import parse_config, training_parser
from wsss.stages.seg import train


def main(argv=None):
    p = training_parser(__doc__, data_check=True)
    p.add_argument('--no-eval', action='store_true', help='skip the val evaluation after training')
    args, cfg = parse_config(p, argv)
    return train.run(cfg, args.work_dir, resume=args.resume, stop_at=args.stop_at, evaluate_after=not args.no_eval)


if __name__ == '__main__':
    main()
