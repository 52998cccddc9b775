# DeepLab-v2, ResNet-101, OS 8 (recipe of kazuto1011/deeplab-pytorch, configs/voc12.yaml, as EPS reports it).
# Model part only; the dataset/schedule parts come from the other _base_ files.
#
# Init (pretrained=<local path>, never downloaded; training refuses None, 'none' = random init on purpose):
#   * ImageNet torchvision file (resnet101-63fe2227.pth / resnet101-cd907fc2.pth): keep style='pytorch'.
#   * deeplab-pytorch's Caffe COCO init (deeplabv1_resnet101-coco.pth) or OAA's R101: set style='caffe'
#     (stride in 1x1, ceil-mode pool, BGR 0-255 mean-subtracted input converted inside the backbone);
#     keys are converted, ASPP/fc keys of the source task are dropped. Loading it with style='pytorch' is
#     an error. `tools/convert_weights.py --format deeplab-coco` writes it once in our keys (meta style caffe).
model = dict(
    type='DeepLabV2',
    num_classes=21,
    backbone=dict(
        type='TorchvisionResNet',
        depth=101,
        output_stride=8,
        style='pytorch',
        frozen_stages=-1,
        norm_eval=True,  # deeplab-pytorch freeze_bn(): BN in eval mode, affine frozen
        pretrained=None),
    decode_head=dict(
        type='ASPPv2Head',
        in_index=-1,
        dilations=(6, 12, 18, 24),
        loss_decode=dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0, resize='logits')))

# lr multipliers of deeplab-pytorch: ASPP weights 10x, ASPP biases 20x, backbone 1x.
# Applied by the trainer to the schedule's optim_wrapper (mmengine DefaultOptimWrapperConstructor).
# mmengine matches custom_keys as substrings of 'module.path.param', tries the LONGEST key first, and a
# parameter that matches a custom key ignores bias_lr_mult; hence one explicit key per ASPP bias.
paramwise_cfg = dict(custom_keys={
    'decode_head': dict(lr_mult=10.0),
    'decode_head.aspp.0.bias': dict(lr_mult=20.0),
    'decode_head.aspp.1.bias': dict(lr_mult=20.0),
    'decode_head.aspp.2.bias': dict(lr_mult=20.0),
    'decode_head.aspp.3.bias': dict(lr_mult=20.0),
})
