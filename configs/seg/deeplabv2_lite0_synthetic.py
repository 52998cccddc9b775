# DeepLab-v2 (ASPP 6/12/18/24) on EfficientNet-Lite0 (ImageNet, OS 8), trained on the synthetic set's
# pseudo-labels: --cfg-options label_dir=/abs/path/to/pseudo/crf  (or SegmentationClass: full supervision).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/deeplabv2_lite0.py',
          '../_base_/datasets/synthetic_seg.py', '../_base_/schedules/seg_synthetic.py']
optim_wrapper = dict(paramwise_cfg={{_base_.paramwise_cfg}})
