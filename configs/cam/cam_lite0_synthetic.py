# Plain CAM (multi-label soft margin, GAP) on EfficientNet-Lite0 (ImageNet, OS 8, stem + 4 levels frozen: only the last level and the heads train), synthetic set.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthetic_cam.py',
          '../_base_/schedules/cam_synthetic.py']
model = dict(type='CAMClassifier', num_classes=20, background=False,
             backbone=dict(type='EfficientNetLite0', output_stride=8, pretrained=True, frozen_stages=4,
                           norm_eval=True))
