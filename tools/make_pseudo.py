#!/usr/bin/env python
"""Make pseudo-labels: multi-scale + flip CAMs -> the config's rule (+ saliency) -> dense CRF -> palette PNGs.

Writes <out-dir>/{seed,nocrf,crf}/<id>.png and <out-dir>/metrics.json (mIoU against ground truth when it
exists). Resumable: a rerun skips finished images. Parallel over CPU processes (--num-workers) and over
torchrun ranks (torchrun --nproc_per_node N tools/make_pseudo.py ...).

Example:
    python tools/make_pseudo.py configs/cam/eps_seenet_lite0_synthetic.py \\
        --checkpoint work_dirs/cam/final.pth --out-dir work_dirs/pseudo --num-workers 2
    # official EPS checkpoint, no CRF:
    python tools/make_pseudo.py configs/cam/eps_resnet38_voc.py --checkpoint checkpoint_cls.pth \\
        --out-dir out --no-crf --cfg-options data_root=/data/VOC2012
"""
from wsss.engine.cli import add_check_arg, add_config_args, make_parser, parse_config
from wsss.stages.pseudo import make


def main(argv=None):
    p = make_parser(__doc__)
    add_config_args(p)
    add_check_arg(p)
    p.add_argument('--checkpoint', required=True, help='CAM weights: our final.pth or an official state_dict')
    p.add_argument('--out-dir', required=True, help='output folder for the label PNGs and metrics.json')
    p.add_argument('--split', help='list under ImageSets/Segmentation (default: pseudo.split of the config)')
    crf = p.add_mutually_exclusive_group()
    crf.add_argument('--no-crf', dest='crf', action='store_false', default=None,
                     help='skip dense-CRF refinement (writes seed/ and nocrf/ only)')
    crf.add_argument('--crf', dest='crf', action='store_true',
                     help='force CRF (DeepLab-v2 VOC parameters when the config has none)')
    p.add_argument('--num-workers', type=int, help='CPU worker processes (default: pseudo.num_workers)')
    p.add_argument('--limit', type=int, help='only the first N images of the split (quick checks)')
    args, cfg = parse_config(p, argv)
    return make.run(cfg, args.checkpoint, args.out_dir, split=args.split, crf=args.crf,
                    num_workers=args.num_workers, limit=args.limit)


if __name__ == '__main__':
    main()
