# Plain CAM classifier (PSA resnet38_cls): ResNet-38, 20-way fc8 (no bias), dropout7 = Dropout2d(0.5) before the
# head; test time relu(CAM), scales/flips summed. Head lr x10 via paramwise_cfg custom_keys={'fc8': ...}.
model = dict(
    type='CAMClassifier',
    backbone=dict(type='ResNet38', frozen_stages=1, norm_eval=True, dropout=(0.3, 0.5), pretrained=None),
    num_classes=20,
    background=False,
    seenet=None,
    sal_loss=None,
    cls_loss=dict(type='MultiLabelSoftMarginLoss'),
    dropout=0.5,
)
paramwise_cfg = dict(custom_keys={'fc8': dict(lr_mult=10.0)})
