# DeepLab-LargeFOV head (DeepLab-v1: fc6 3x3 rate 12 -> fc7 1x1 -> classifier; SeeNet's segmenter) on a
# dilated ResNet-101 (OS 8). On VGG16 fc6/fc7 come from the classifier's fc layers (lr 1x/2x) and only fc8 is
# new (10x/20x); on ResNet the whole head is new, so all of it gets 10x (weights) / 20x (biases).
# The backbone (and its init notes) come from the DeepLab-v2 base.
_base_ = ['./deeplabv2_r101.py']
model = dict(
    type='DeepLabLargeFOV',
    decode_head=dict(
        _delete_=True,
        type='LargeFOVHead',
        in_index=-1,
        channels=1024,
        dilation=12,
        dropout=0.5,
        loss_decode=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0)))

paramwise_cfg = dict(_delete_=True, custom_keys={
    'decode_head': dict(lr_mult=10.0),
    'decode_head.fc6.bias': dict(lr_mult=20.0),
    'decode_head.fc7.bias': dict(lr_mult=20.0),
    'decode_head.conv_seg.bias': dict(lr_mult=20.0),
})
