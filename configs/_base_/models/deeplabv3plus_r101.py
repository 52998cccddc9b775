# DeepLab-v3+ on a dilated ResNet-101 (OS 8: ASPP rates 12/24/36 + 1x1 + image pooling; decoder on layer1).
# As mmsegmentation's deeplabv3plus_r101-d8 recipe: BatchNorm trained (use batches >= 2 per device: the
# image-pooling branch normalises a 1x1 map), one lr for all parameters (no custom keys).
model = dict(
    type='DeepLabV3Plus',
    num_classes=21,
    backbone=dict(type='TorchvisionResNet', depth=101, output_stride=8, style='pytorch', frozen_stages=-1,
                  norm_eval=False, pretrained=None),
    decode_head=dict(
        type='ASPPv3PlusHead',
        in_index=(0, -1),
        channels=256,
        dilations=(1, 12, 24, 36),
        c1_channels=48,
        dropout=0.1,
        loss_decode=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0)))

paramwise_cfg = dict(custom_keys={})
