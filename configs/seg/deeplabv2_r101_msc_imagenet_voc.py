# DeepLab-v2 ResNet-101 as kazuto1011/deeplab-pytorch trains it (see deeplabv2_r101_msc_coco_voc.py), ImageNet-
# initialised: the torchvision ResNet-101 (resnet101-63fe2227.pth, or timm's, converted with tools/convert_weights.py)
# -- the usual init of the papers that do not use COCO (COCO init adds about a point, e.g. CLIMS 69.3 -> 70.4 val).
#   --cfg-options model.backbone.pretrained=<.pth> label_dir=<pseudo-labels of train_aug>
_base_ = ['../_base_/default_runtime.py', '../_base_/models/deeplabv2_r101_msc.py',
          '../_base_/datasets/voc12_seg.py', '../_base_/schedules/seg_sgd_poly_20k.py']
data_root = 'data/VOCdevkit/VOC2012'
