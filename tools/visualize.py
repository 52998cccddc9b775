#!/usr/bin/env python
"""Qualitative grid: image | CAM | saliency | pseudo-label | prediction | GT, one row per id.

    python tools/visualize.py --data-root data/VOC2012 --split train --ids 2007_000032 2007_000039 \
        --cam-dir work_dirs/eps/cam_npy --saliency-dir SALImages --pseudo-dir work_dirs/eps/pseudo \
        --out results/qualitative.png

Without --ids the first --num ids of the split are shown. Folders are absolute, existing relative
paths, or relative to --data-root.
"""
from __future__ import annotations

from wsss.engine.cli import make_parser
from wsss.metrics.label_dirs import split_ids
from wsss.report.visualize import TILE, save_visualization


def main(argv=None) -> int:
    ap = make_parser(__doc__)
    ap.add_argument('--data-root', required=True, help='VOC-format data root')
    ap.add_argument('--split', default='val', help='split used when --ids is not given (default val)')
    ap.add_argument('--ids', nargs='+', help='image ids (default: the first --num ids of --split)')
    ap.add_argument('--num', type=int, default=8, help='how many ids of --split when --ids is not given')
    ap.add_argument('--cam-dir', help='CAM column: <id>.npy (make_pseudo cams/) or .png maps')
    ap.add_argument('--saliency-dir', help='saliency column: <id>.png maps')
    ap.add_argument('--pseudo-dir', help='pseudo-label column: palette PNGs (make_pseudo crf/ or nocrf/)')
    ap.add_argument('--pred-dir', help='prediction column: palette PNGs (eval_seg pred_*/)')
    ap.add_argument('--gt-dir', default='SegmentationClass', help="GT folder ('none' to omit the column)")
    ap.add_argument('--tile', type=int, default=TILE, help='tile size in pixels')
    ap.add_argument('--label-alpha', type=float, default=1.0, help='<1 blends label colours onto the image')
    ap.add_argument('--out', required=True, help='output PNG')
    args = ap.parse_args(argv)
    ids = args.ids or split_ids(args.data_root, args.split)[:args.num]
    out = save_visualization(args.out, args.data_root, ids, cam_dir=args.cam_dir, saliency_dir=args.saliency_dir,
                             pseudo_dir=args.pseudo_dir, pred_dir=args.pred_dir,
                             gt_dir=None if args.gt_dir.lower() == 'none' else args.gt_dir,
                             tile=args.tile, label_alpha=args.label_alpha)
    print(f'wrote {out} ({len(ids)} images)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
