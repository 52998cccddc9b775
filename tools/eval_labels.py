#!/usr/bin/env python
"""mIoU of a folder of label PNGs against VOC ground truth (mmseg IoUMetric semantics).

    python tools/eval_labels.py work_dirs/eps/pseudo/crf --data-root data/VOC2012 --split train
    python tools/eval_labels.py PRED --data-root D --gt-dir SegmentationClassAug --out m.json --section pseudo_crf

Adds the result as section --section (default 'labels') of the run record --out (default
<PRED_DIR>/metrics.json): per-class IoU (VOC names), mIoU, aAcc, mAcc, num_images.
"""
from pathlib import Path

from wsss.engine.cli import make_parser
from wsss.report.tables import SectionMetrics, per_class_table, to_markdown
from wsss.stages.pseudo import evaluate
from wsss.utils.io import read_lines


def main(argv=None) -> int:
    ap = make_parser(__doc__)
    ap.add_argument('pred_dir', metavar='PRED_DIR', help='folder of <id>.png label maps')
    ap.add_argument('--data-root', required=True, help='VOC2012 root')
    ap.add_argument('--split', default='train', help='ImageSets/Segmentation/<split>.txt (default train)')
    ap.add_argument('--ids-file', help='explicit id list instead of the split file')
    ap.add_argument('--gt-dir', default='SegmentationClass', help='GT folder, relative to --data-root or absolute')
    ap.add_argument('--out', help='run record (default <PRED_DIR>/metrics.json)')
    ap.add_argument('--section', default='labels', help='section name in the record (default labels)')
    ap.add_argument('--name', help='run name stored in the record (default: PRED_DIR folder name)')
    args = ap.parse_args(argv)
    ids = read_lines(args.ids_file) if args.ids_file else None
    res = evaluate.run(args.pred_dir, args.data_root, split=args.split, gt_dir=args.gt_dir, out=args.out, ids=ids,
                       name=args.name, section=args.section)
    name = args.name or Path(args.pred_dir).resolve().name
    print(to_markdown(per_class_table([SectionMetrics(name, args.section, res['mIoU'], res['IoU'], label=name)])),
          end='')
    print(f"mIoU {res['mIoU']}  aAcc {res['aAcc']}  mAcc {res['mAcc']}  ({res['num_images']} images)")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
