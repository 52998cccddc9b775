# EPS + SeeNet in one model (see CAMClassifier's docstring): S_A and S_B have 20 + 1 outputs (background last),
# S_C 20; the C-ReLU/background masks come from S_A's softmax fg maps; EPS saliency loss on S_A (loss_sal) and on
# the fused distribution (softmax(S_A) + softmax(S_B)) / 2 (loss_sal_fused). Test time as SeeNet (max fusion).
model = dict(
    type='CAMClassifier',
    backbone=dict(type='ResNet38', frozen_stages=1, norm_eval=True, dropout=(0.3, 0.5), pretrained=None),
    num_classes=20,
    background=True,
    seenet=dict(delta_h=0.7, delta_l=0.05, num_convs=2, channels=512, dropout=0.5, fused_sal_loss=True),
    sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5),
    cls_loss=dict(type='MultiLabelSoftMarginLoss'),
    dropout=0.0,
)
paramwise_cfg = dict(custom_keys={'fc8': dict(lr_mult=10.0)})
