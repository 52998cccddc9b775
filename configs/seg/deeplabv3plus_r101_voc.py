# deeplabv3plus ResNet-101 on PASCAL VOC 2012 aug pseudo-labels, DeepLab-v2 WSSS recipe (crop 321, batch 10,
# lr 2.5e-4, head 10x, poly 0.9, 20k iterations). Initialisation: set model.backbone.pretrained to a local
# torchvision ImageNet file (see wsss/models/backbones/torchvision_resnet.py for the key mapping).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/deeplabv3plus_r101.py',
          '../_base_/datasets/voc12_seg.py', '../_base_/schedules/seg_sgd_poly_20k.py']
data_root = 'data/VOCdevkit/VOC2012'
