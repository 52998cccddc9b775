# DeepLab-v2 ResNet-101 exactly as kazuto1011/deeplab-pytorch trains it for VOC12 (configs/voc12.yaml, main.py),
# the segmenter behind EPS's numbers: multi-scale inputs (MSC: the network on the crop and on it resized by 0.5 and
# 0.75, outputs fused by a pixel-wise max), one cross-entropy per output (full, 0.5, 0.75, max) on the labels shrunk
# to that output's size with PIL's nearest, ASPP weights 10x, ASPP biases 20x without weight decay.
_base_ = ['./deeplabv2_r101.py']
model = dict(msc_scales=(0.5, 0.75), decode_head=dict(loss_decode=dict(resize='labels')))
paramwise_cfg = dict(custom_keys={
    'decode_head.aspp.0.bias': dict(decay_mult=0.0),
    'decode_head.aspp.1.bias': dict(decay_mult=0.0),
    'decode_head.aspp.2.bias': dict(decay_mult=0.0),
    'decode_head.aspp.3.bias': dict(decay_mult=0.0),
})
