# SANet on EfficientNet-Lite0 (OS 8, timm dilation) for the CPU demo: the R101 model with another backbone,
# SA modules on levels 1-4 (strides 4, 8, 8, 8; level 0 is stride 2) and a narrower head (64/128 channels).
_base_ = ['./sanet_r101.py']
model = dict(
    backbone=dict(_delete_=True, type='EfficientNetLite0', output_stride=8, pretrained=True, frozen_stages=-1,
                  norm_eval=True),
    decode_head=dict(in_index=(1, 2, 3, 4), channels=64, fuse_channels=128, dense_channels=128))
