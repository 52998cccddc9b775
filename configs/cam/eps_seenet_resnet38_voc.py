# This project's method (no paper row; compared with EPS's 69.2 / 70.9 / 70.8 by tools/reproduce.py voc_eps_seenet).
# EPS + SeeNet on ResNet-38 (EPS/PSA wide ResNet-38, OS 8, frozen BN), PASCAL VOC 2012 train_aug, EPS recipe:
# batch 8, crop 448, random long side 256-512, lr 0.01 (head x10), poly 0.9, 20k iterations, wd 5e-4.
# ImageNet init: model.backbone.pretrained=<resnet38 .pth converted from ilsvrc-cls_rna-a1_cls1000_ep-0001.params>
#   (python tools/convert_weights.py --format resnet38-mxnet ilsvrc-cls_rna-a1_cls1000_ep-0001.params OUT.pth)
_base_ = ['../_base_/default_runtime.py', '../_base_/models/cam_eps_seenet.py', '../_base_/datasets/voc12_cam.py',
          '../_base_/schedules/cam_sgd_poly_20k.py']
data_root = 'data/VOCdevkit/VOC2012'
saliency_dir = 'SALImages'   # the PFAN maps EPS distributes
# SeeNet's proxy pseudo-labels (configs/_base_/models/cam_seenet.py); uncertain pixels stay 255 (no CRF, as
# the EPS recipe).
pseudo = _base_._seenet_pseudo
