# DeepLab-v3+ on a dilated ResNet-101 (OS 8: ASPP rates 12/24/36 + 1x1 + image pooling; decoder on layer1).
# As mmsegmentation's deeplabv3plus_r101-d8 recipe: BatchNorm trained (use batches >= 2 per device: the
# image-pooling branch normalises a 1x1 map), one lr for all parameters (no custom keys).
# The backbone (and its init notes) come from the DeepLab-v2 base; here its BatchNorm trains.
_base_ = ['./deeplabv2_r101.py']
model = dict(
    type='DeepLabV3Plus',
    backbone=dict(norm_eval=False),
    decode_head=dict(
        _delete_=True,
        type='ASPPv3PlusHead',
        in_index=(0, -1),
        channels=256,
        dilations=(1, 12, 24, 36),
        c1_channels=48,
        dropout=0.1,
        loss_decode=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0)))

paramwise_cfg = dict(_delete_=True, custom_keys={})
