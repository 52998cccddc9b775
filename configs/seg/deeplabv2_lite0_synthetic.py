# DeepLab-v2 (ASPP 3/6/9/12 at OS 16 = the paper's 6/12/18/24 at OS 8) on EfficientNet-Lite0 (ImageNet),
# trained on the synthetic set's pseudo-labels: --cfg-options label_dir=/abs/path/to/pseudo/crf
# (or label_dir=SegmentationClass: full supervision). 1000 iterations (times and results: README, RESULTS.md).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/deeplabv2_lite0.py',
          '../_base_/datasets/synthetic_seg.py', '../_base_/schedules/seg_synthetic.py']
