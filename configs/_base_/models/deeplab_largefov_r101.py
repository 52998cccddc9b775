# DeepLab-LargeFOV head (DeepLab-v1: fc6 3x3 rate 12 -> fc7 1x1 -> classifier; SeeNet's segmenter) on a
# dilated ResNet-101 (OS 8). On VGG16 fc6/fc7 come from the classifier's fc layers (lr 1x/2x) and only fc8 is
# new (10x/20x); on ResNet the whole head is new, so all of it gets 10x (weights) / 20x (biases).
model = dict(
    type='DeepLabLargeFOV',
    num_classes=21,
    backbone=dict(type='TorchvisionResNet', depth=101, output_stride=8, style='pytorch', frozen_stages=-1,
                  norm_eval=True, pretrained=None),
    decode_head=dict(
        type='LargeFOVHead',
        in_index=-1,
        channels=1024,
        dilation=12,
        dropout=0.5,
        loss_decode=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0)))

paramwise_cfg = dict(custom_keys={
    'decode_head': dict(lr_mult=10.0),
    'decode_head.fc6.bias': dict(lr_mult=20.0),
    'decode_head.fc7.bias': dict(lr_mult=20.0),
    'decode_head.conv_seg.bias': dict(lr_mult=20.0),
})
