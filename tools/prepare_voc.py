#!/usr/bin/env python
"""Prepare PASCAL VOC 2012 + SBD (train_aug) as a data_root: SegmentationClassAug, split lists, image labels.

    python tools/prepare_voc.py --voc data/VOCdevkit/VOC2012 --sbd data/benchmark_RELEASE \\
        --out data/VOCdevkit/VOC2012

Writes OUT/SegmentationClassAug/<id>.png (VOC's SegmentationClass where it exists, else SBD's dataset/cls/<id>.mat),
OUT/ImageSets/Segmentation/{train,val,train_aug,trainaug,aug}.txt, OUT/cls_labels.{json,npy} and, when OUT is
not the VOC folder, symlinks OUT/JPEGImages and OUT/SegmentationClass to VOC's. Every input is checked before
anything is written (all problems in one error); a rerun skips what is already right. Expected: train 1464,
val 1449, train_aug 10582 (other counts are reported as warnings). Details: wsss/datasets/voc_prepare.py.
"""
from __future__ import annotations

from wsss.datasets.voc_prepare import prepare_voc
from wsss.engine.cli import make_parser


def main(argv=None) -> int:
    ap = make_parser(__doc__)
    ap.add_argument('--voc', required=True, metavar='VOC2012',
                    help='VOCdevkit/VOC2012 from VOCtrainval_11-May-2012.tar (JPEGImages, SegmentationClass, '
                         'ImageSets/Segmentation)')
    ap.add_argument('--sbd', required=True, metavar='BENCHMARK_RELEASE',
                    help='benchmark_RELEASE from SBD benchmark.tgz (dataset/cls/*.mat, dataset/{train,val}.txt)')
    ap.add_argument('--out', required=True, metavar='DIR',
                    help='data_root to write; the VOC2012 folder itself (as mmsegmentation does) or a new folder')
    a = ap.parse_args(argv)
    print(prepare_voc(a.voc, a.sbd, a.out)['line'])
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
