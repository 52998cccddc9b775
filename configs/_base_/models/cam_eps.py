# EPS (CVPR21) as halbielee/EPS trains it on VOC: ResNet-38, fc8 with 20 + 1 (background, last) outputs, no
# dropout7; loss = multilabel soft margin on the 20 fg GAP logits + EPS saliency loss (tau 0.4, lam 0.5 for VOC;
# COCO: lam 0.9). Test time softmax over 21, fg channels, scales/flips summed. Head lr x10.
model = dict(
    type='CAMClassifier',
    backbone=dict(type='ResNet38', frozen_stages=1, norm_eval=True, dropout=(0.3, 0.5), pretrained=None),
    num_classes=20,
    background=True,
    seenet=None,
    sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5),
    cls_loss=dict(type='MultiLabelSoftMarginLoss'),
    dropout=0.0,
)
paramwise_cfg = dict(custom_keys={'fc8': dict(lr_mult=10.0)})
