# DeepLab-v3+ on EfficientNet-Lite0 for the CPU set: ASPP on level 4 at OS 16 with rates 1/2/4/6 (the
# paper's 1/6/12/18 at OS 16 scaled to an 8x8 map of a 128-px image), decoder on level 1 (stride 4),
# 128 channels instead of 256. Backbone BatchNorm frozen (norm_eval), the head's BatchNorm trained.
_base_ = ['./deeplabv3plus_r101.py']
model = dict(backbone=dict(_delete_=True, type='EfficientNetLite0', output_stride=16, pretrained=True,
                           frozen_stages=-1, norm_eval=True),
             decode_head=dict(in_index=(1, 4), channels=128, dilations=(1, 2, 4, 6)))
paramwise_cfg = dict(custom_keys={'decode_head': dict(lr_mult=10.0)})
