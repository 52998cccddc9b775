#!/usr/bin/env python
"""mIoU of a folder of label PNGs against VOC ground truth (mmseg IoUMetric semantics).

    python tools/eval_labels.py work_dirs/eps/pseudo --data-root data/VOC2012 --split train
    python tools/eval_labels.py PRED --data-root D --gt-dir SegmentationClassAug --out m.json --section pseudo_crf

Writes metrics.json (default <PRED_DIR>/metrics.json): per-class IoU (VOC names), mIoU, aAcc, mAcc,
num_images. With --section the result is merged as that section into --out (sectioned form).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wsss.engine.label_eval import eval_labels  # noqa: E402
from wsss.engine.tables import per_class_table, load_metrics, to_markdown  # noqa: E402
from wsss.utils.io import read_lines  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('pred_dir', metavar='PRED_DIR', help='folder of <id>.png label maps')
    ap.add_argument('--data-root', required=True, help='VOC2012 root')
    ap.add_argument('--split', default='train', help='ImageSets/Segmentation/<split>.txt (default train)')
    ap.add_argument('--ids-file', help='explicit id list instead of the split file')
    ap.add_argument('--gt-dir', default='SegmentationClass', help='GT folder, relative to --data-root or absolute')
    ap.add_argument('--out', help='metrics file (default <PRED_DIR>/metrics.json)')
    ap.add_argument('--section', help='merge the result as this section of --out (sectioned form)')
    ap.add_argument('--name', help='run name stored in the file (default: PRED_DIR folder name)')
    args = ap.parse_args(argv)
    ids = read_lines(args.ids_file) if args.ids_file else None
    res = eval_labels(args.pred_dir, args.data_root, split=args.split, gt_dir=args.gt_dir, out=args.out, ids=ids,
                      name=args.name, section=args.section)
    name = args.name or Path(args.pred_dir).resolve().name
    print(to_markdown(per_class_table(load_metrics(res, name))), end='')
    print(f"mIoU {res['mIoU']}  aAcc {res['aAcc']}  mAcc {res['mAcc']}  ({res['num_images']} images)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
