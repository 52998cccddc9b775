#!/usr/bin/env python
"""Convert released weights to our layouts, once, for model.backbone.pretrained=OUT (or as a saliency checkpoint).

    python tools/convert_weights.py --format resnet38-mxnet ilsvrc-cls_rna-a1_cls1000_ep-0001.params r38.pth
    python tools/convert_weights.py --format torchvision resnet101-63fe2227.pth r101_torchvision.pth
    python tools/convert_weights.py --format timm resnet50_a1_in1k.safetensors r50_timm.safetensors
    python tools/convert_weights.py --format deeplab-coco deeplabv1_resnet101-coco.pth r101_coco_caffe.pth
    python tools/convert_weights.py --format inspyrenet latest.pth inspyrenet_res2net50.pth --base-size 384

Formats:
  resnet38-mxnet  MXNet .params (read without MXNet) of the ImageNet "model A1" ResNet-38 of PSA/EPS -> ResNet38
                  keys (linear1000 dropped): model.backbone.pretrained=OUT in the ResNet-38 CAM configs.
  torchvision     torchvision ImageNet ResNet-50/101/152 -> TorchvisionResNet keys (fc dropped), style 'pytorch'.
  timm            timm resnet50/101/152 (torchvision names) -> TorchvisionResNet, style 'pytorch'; or
                  tf_efficientnet_lite0 -> EfficientNetLite0 (head dropped). .pth, .pth.tar or .safetensors in.
  deeplab-coco    kazuto1011/deeplab-pytorch Caffe COCO init (deeplabv1_resnet101-coco.pth; 'base.' and older
                  'scale.' prefixed files too) -> TorchvisionResNet keys, style 'caffe': the file records it and
                  loads only with model.backbone.style='caffe'.
  inspyrenet      official InSPyReNet latest.pth (Res2Net-50 / Swin-B) -> our checkpoint; --base-size records
                  the training size (384 for latest.pth, 1024 for transparent-background's ckpt_base.pth).

OUT is written atomically: '.safetensors' -> tensors with the meta as JSON in the header; any other suffix ->
torch.save({'state_dict': ..., 'meta': {'source', 'format', 'style', 'model', ...}}). The state_dict has exactly
our module's keys (checked strict=True; num_batches_tracked filled with 0); every loader reads both files.
"""
from wsss.engine.cli import make_parser
from wsss.models.convert import FORMATS, convert_weights


def main(argv=None) -> int:
    ap = make_parser(__doc__)
    ap.add_argument('--format', required=True, choices=sorted(FORMATS), help='format of IN (see Formats above)')
    ap.add_argument('src', metavar='IN', help='released weight file')
    ap.add_argument('dst', metavar='OUT', help='output file (.pth, or .safetensors)')
    ap.add_argument('--base-size', type=int, nargs='+', metavar='N',
                    help='inspyrenet only: H [W], the training resolution recorded in meta.base_size (H = square)')
    args = ap.parse_args(argv)
    if args.base_size is not None and len(args.base_size) not in (1, 2):
        ap.error('--base-size takes H or H W')
    meta = convert_weights(args.format, args.src, args.dst, base_size=args.base_size)
    extra = {k: meta[k] for k in ('model', 'style', 'depth', 'backbone', 'base_size') if meta.get(k) is not None}
    print(f'wrote {args.dst}: {extra}')
    if meta['model'] == 'InSPyReNet':
        print(f'use: tools/make_saliency.py CONFIG --checkpoint {args.dst} ...')
    else:
        style = f" model.backbone.style={meta['style']}" if meta.get('style') == 'caffe' else ''
        print(f'use: --cfg-options model.backbone.pretrained={args.dst}{style}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
