# SANet (Zhong et al., CVPR 2020) on EfficientNet-Lite0 (OS 8, timm dilation): SA modules on levels 1-4
# (strides 4, 8, 8, 8); narrower head (64/128 channels) for the CPU demo.
# L = L_mask + alpha * L_cat + beta * L_den with alpha = 0.2, beta = 0.8 (paper Sec. 3.4 / Fig. 4;
# /work/shared/seeds/004 notes). L_cat is supervised by batch['cls_label'] (image labels) when present.
# Backbone BN frozen (WSSS batches are small); the head's BN trains. Head lr 10x (PyTorch-Encoding habit).
model = dict(
    type='SANet',
    num_classes=21,
    backbone=dict(type='EfficientNetLite0', output_stride=8, pretrained=True, frozen_stages=-1,
                  norm_eval=True),
    decode_head=dict(
        type='SAHead',
        in_index=(1, 2, 3, 4),  # Lite0 has 5 levels; level 0 is stride 2
        channels=64,
        pool_kernel=2,
        num_convs=2,
        fuse_channels=128,
        dense_index=-1,
        dense_channels=128,
        dropout=0.1,
        loss_mask=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0),
        loss_cat=dict(type='MultiLabelBCELoss', loss_weight=0.2),  # alpha
        loss_den=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=0.8)))  # beta

paramwise_cfg = dict(custom_keys={'decode_head': dict(lr_mult=10.0)})
