# SANet (Zhong et al., CVPR 2020) on a dilated ResNet-101 (OS 8): SA modules on the 4 stages.
# L = L_mask + alpha * L_cat + beta * L_den with alpha = 0.2, beta = 0.8 (paper Sec. 3.4 / Fig. 4).
# L_cat is supervised by batch['cls_label'] (image labels) when present.
# Backbone BN frozen (WSSS batches are small); the head's BN trains. Head lr 10x (PyTorch-Encoding habit).
# The backbone (and its init notes) come from the DeepLab-v2 base.
_base_ = ['./deeplabv2_r101.py']
model = dict(
    type='SANet',
    decode_head=dict(
        _delete_=True,
        type='SAHead',
        in_index=(0, 1, 2, 3),
        channels=128,
        pool_kernel=2,
        num_convs=2,
        fuse_channels=256,
        dense_index=-1,
        dense_channels=256,
        dropout=0.1,
        loss_mask=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0),
        loss_cat=dict(type='MultiLabelSoftMarginLoss', loss_weight=0.2),  # alpha
        loss_den=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=0.8)))  # beta

paramwise_cfg = dict(_delete_=True, custom_keys={'decode_head': dict(lr_mult=10.0)})
