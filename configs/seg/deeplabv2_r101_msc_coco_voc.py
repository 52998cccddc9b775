# Reproduces EPS's segmentation row (Lee et al., CVPR 2021): DeepLab-v2 ResNet-101 on EPS pseudo-labels, 70.9 val /
# 70.8 test on VOC12, trained with kazuto1011/deeplab-pytorch (configs/voc12.yaml): MSC training, crop 321, scales
# {0.5, 0.75, 1, 1.25, 1.5}, batch 10 (5 x 2 accumulation there; one batch of 10 here: BatchNorm is frozen, so the
# gradient is the same up to how pixels of the two half-batches are averaged), SGD lr 2.5e-4, momentum 0.9, wd 5e-4,
# poly 0.9, 20k iterations. Test: MSC-max + dense CRF (tools/eval_seg.py --msc-max --crf).
# Init: the COCO-pretrained Caffe ResNet-101 of deeplab-pytorch (deeplabv1_resnet101-coco.pth; EPS used OAA's,
# "assumed MS-COCO-pretrained"), converted with tools/convert_weights.py --format deeplab-coco:
#   --cfg-options model.backbone.pretrained=<converted .pth> label_dir=<pseudo-labels of train_aug>
# Deviations (documented in docs/reproduce_voc.md): poly steps every iteration (deeplab-pytorch: every 10); images
# are rescaled with PIL bilinear (there: cv2 INTER_LINEAR) and padded around a random offset (there: bottom/right).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/deeplabv2_r101_msc.py',
          '../_base_/datasets/voc12_seg.py', '../_base_/schedules/seg_sgd_poly_20k.py']
data_root = 'data/VOCdevkit/VOC2012'
model = dict(backbone=dict(style='caffe'))
