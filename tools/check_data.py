#!/usr/bin/env python
"""Check a VOC-format data set before a stage reads it: every image decoded, masks, image-level labels, saliency
maps and training labels present, valid and of the image's size; all problems listed at once, by file.

    python tools/check_data.py configs/cam/eps_resnet38_voc.py --cfg-options data_root=data/VOCdevkit/VOC2012
    python tools/check_data.py configs/seg/deeplabv2_r101_voc.py --stage seg \\
        --cfg-options data_root=data/VOCdevkit/VOC2012 label_dir=/runs/eps/pseudo/crf

--stage all (default) checks every stage of the config: a CAM config its training (cam) and pseudo-label (pseudo)
inputs, a segmenter config its training labels and evaluation split (seg). Prints the report (counts and the
first --max-listed files per kind of problem) and exits with status 1 when there is a problem. The stages run
the same checks when they start (skip them with --no-check or --cfg-options check_data=False).
"""
from wsss.engine.cli import add_config_args, make_parser, parse_config
from wsss.stages.inputs import STAGES, check_stages


def main(argv=None) -> int:
    p = make_parser(__doc__)
    add_config_args(p)
    p.add_argument('--stage', choices=[*STAGES, 'all'], default='all',
                   help='cam: CAM training; pseudo: pseudo-labels; seg: segmenter training + evaluation; '
                        "all: the config's stages (default)")
    p.add_argument('--max-listed', type=int, default=10, help='files listed per kind of problem (default 10)')
    p.add_argument('--workers', type=int, default=None, help='decoding threads (default min(8, CPUs))')
    args, cfg = parse_config(p, argv)
    report = check_stages(cfg, args.stage, max_workers=args.workers)
    print(report.format(args.max_listed))
    return 0 if report.ok else 1


if __name__ == '__main__':
    raise SystemExit(main())
