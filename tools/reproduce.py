#!/usr/bin/env python
"""Reproduce a paper's VOC row: every stage in order (CAM, pseudo-labels of train and train_aug, segmenter, val and
test evaluation), finished stages skipped and interrupted ones resumed, then our numbers beside the paper's.

    python tools/reproduce.py voc_eps --cfg-options data_root=data/VOCdevkit/VOC2012 \\
        --cam-options model.backbone.pretrained=weights/resnet38d_imagenet.pth \\
        --seg-options model.backbone.pretrained=weights/deeplabv1_resnet101_coco_converted.pth

Rows: voc_eps (EPS, ResNet-38 -> DeepLab-v2 ResNet-101), voc_seenet (SeeNet, VGG-16 -> DeepLab-v2 ResNet-101),
voc_eps_seenet (this project's method, beside EPS's numbers). Writes <work-dir>/<row>/{cam,pseudo_train,
pseudo_train_aug,seg}/ and <work-dir>/<row>/reproduce.md. docs/reproduce_voc.md: downloads, commands, times.
"""
from pathlib import Path

from mmengine.config import DictAction

from wsss.drivers.reproduce import ROWS, run_row
from wsss.engine.cli import make_parser


def main(argv=None):
    p = make_parser(__doc__)
    p.add_argument('rows', nargs='+', choices=sorted(ROWS), help='paper rows to reproduce')
    p.add_argument('--work-dir', default='work_dirs/reproduce', help='one sub-folder per row')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='overrides for both configs of a row, e.g. data_root=/data/VOC2012')
    p.add_argument('--cam-options', nargs='+', action=DictAction, default={},
                   help='overrides for the CAM config only, e.g. model.backbone.pretrained=<ResNet-38 .pth>')
    p.add_argument('--seg-options', nargs='+', action=DictAction, default={},
                   help='overrides for the segmenter config only, e.g. model.backbone.pretrained=<ResNet-101 .pth>')
    p.add_argument('--num-workers', type=int, help='CPU processes for pseudo-labels (default: the config)')
    p.add_argument('--no-test', action='store_true', help='skip the test-split predictions')
    args = p.parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    return [run_row(r, args.work_dir, repo, args.cfg_options, args.cam_options, args.seg_options, args.num_workers,
                    test=not args.no_test) for r in args.rows]


if __name__ == '__main__':
    main()
