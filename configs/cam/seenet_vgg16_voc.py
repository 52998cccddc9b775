# Reproduces SeeNet (Hou et al., NeurIPS 2018): DeepLab ResNet-101 trained on its labels, 63.1 val / 62.8 test on
# VOC12 (tools/reproduce.py voc_seenet). The paper's attention network: VGG-16 to conv5_3 (OS 16, no pool5) with
# branches of conv3x3-512 + ReLU x2 -> dropout 0.5 -> 1x1 (houqb/SeeNet deploy_seenet.prototxt); the ImageNet
# VGG-16 of torchvision (model.backbone.pretrained=<vgg16-397923af.pth>; the paper used Caffe's). No training
# recipe was released: the EPS schedule (SGD lr 0.01, head x10, poly, 20k iterations, batch 8, crop 448).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/cam_seenet.py', '../_base_/datasets/voc12_cam.py',
          '../_base_/schedules/cam_sgd_poly_20k.py']
data_root = 'data/VOCdevkit/VOC2012'
saliency_dir = 'SALImages'   # read by the proxy pseudo-label rule (training uses no saliency)
model = dict(backbone=dict(_delete_=True, type='VGG16', frozen_stages=-1, pretrained=None))
pseudo = _base_._seenet_pseudo
