# Plain CAM (multi-label soft margin, GAP) on EfficientNet-Lite0 (ImageNet, OS 8), synthetic set.
# The backbone stops at timm level 3 (112 channels, stride 16 dilated to 8): the last level's receptive field
# covers the whole 128-px image, so its CAMs could not single out a 20-px part (measured: part recall only
# 2-10 points above body recall with it, 30 points without it). Stem + levels 0-2 frozen; level 3 and the
# heads train.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthetic_cam.py',
          '../_base_/schedules/cam_synthetic.py']
model = dict(type='CAMClassifier', num_classes=20, background=False,
             backbone=dict(type='EfficientNetLite0', output_stride=8, pretrained=True, out_indices=(0, 1, 2, 3),
                           frozen_stages=3, norm_eval=True))
paramwise_cfg = dict(custom_keys={'fc8': dict(lr_mult=10.0)})  # 'fc8' hits every CAM head, no backbone key
