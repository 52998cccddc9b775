#!/usr/bin/env python
"""Evaluate a segmenter: mIoU as mmsegmentation's IoUMetric computes it (dataset-level I/U, 255 ignored).

Single scale by default; --ms (scales 0.5..1.75, softmax averaged), --msc-max (deeplab-pytorch's test mode:
max over the network's logits at scales 1 / 0.75 / 0.5), --flip and --crf (DeepLab-v2 VOC CRF) as the papers
report. Results are added as a section to <out-dir>/metrics.json. --split test writes the VOC server layout.
The CRF runs on the CPU in --crf-workers processes (pydensecrf, the default there) or on the GPU with
--crf-backend torch (the default on CUDA; exact pydensecrf arithmetic in PyTorch).

Example:
    python tools/eval_seg.py configs/seg/deeplabv2_lite0_synthetic.py --checkpoint work_dirs/seg/final.pth \\
        --out-dir work_dirs/seg --ms --flip --crf
"""
from wsss.engine.cli import add_check_arg, add_config_args, make_parser, parse_config
from wsss.stages.seg import evaluate


def main(argv=None):
    p = make_parser(__doc__)
    add_config_args(p)
    add_check_arg(p)
    p.add_argument('--checkpoint', required=True, help='segmenter weights (final.pth of train_seg)')
    p.add_argument('--out-dir', help='where metrics.json (and PNGs) go; default: the checkpoint folder')
    p.add_argument('--split', default='val', help='list under ImageSets/Segmentation (test: server layout)')
    p.add_argument('--ms', action='store_true', help=f'multi-scale inference, scales {evaluate.MS_SCALES}')
    p.add_argument('--msc-max', action='store_true',
                   help="deeplab-pytorch's test protocol: max over the network's logits at scales 1 / 0.75 / 0.5")
    p.add_argument('--flip', action='store_true', help='average with the horizontally flipped pass')
    p.add_argument('--crf', action='store_true', help='dense-CRF post-processing (DeepLab-v2 VOC settings)')
    p.add_argument('--crf-backend', choices=('auto', 'pydensecrf', 'torch'), default='auto',
                   help="dense-CRF backend; auto: torch on CUDA, pydensecrf on CPU")
    p.add_argument('--crf-workers', type=int, default=None,
                   help='processes for a CRF on the CPU (default: one per core; 0: in the main process)')
    p.add_argument('--no-png', action='store_true', help='do not save predicted label PNGs')
    p.add_argument('--device', default='auto', help="'auto', 'cpu' or 'cuda'")
    args, cfg = parse_config(p, argv)
    return evaluate.run(cfg, args.checkpoint, out_dir=args.out_dir, split=args.split,
                        scales=evaluate.MS_SCALES if args.ms else (1.0,), flip=args.flip, crf=args.crf,
                        save_png=not args.no_png, device=args.device, msc_max=args.msc_max,
                        crf_backend=args.crf_backend, crf_workers=args.crf_workers)


if __name__ == '__main__':
    main()
