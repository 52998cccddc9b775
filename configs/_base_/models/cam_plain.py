# Plain CAM classifier as PSA trains it (resnet38_cls): ResNet-38 (OS 8, frozen BN), dropout7 = Dropout2d(0.5)
# on the feature, CAMHead (fc8: 20 outputs, no bias; multi-label soft margin on GAP logits; test time relu(CAM),
# scales/flips summed). The other CAM model bases inherit this one and replace the head.
# backbone.pretrained: the converted ImageNet ResNet-38 file; training refuses None ('none' = random init on purpose).
model = dict(
    type='CAMClassifier',
    backbone=dict(type='ResNet38', frozen_stages=1, norm_eval=True, dropout=(0.3, 0.5), pretrained=None),
    num_classes=20,
    dropout=0.5,
    head=dict(type='CAMHead'),
)
# heads at 10x lr: every head's layers are named fc8* (fc8, fc8_b, fc8_c), no backbone key contains 'fc8'
paramwise_cfg = dict(custom_keys={'fc8': dict(lr_mult=10.0)})
