"""DeepLab family segmenters: shapes, ASPP-v2 structure, the ignore-255 loss, gradients, configs, lr mults."""
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import nn

from wsss.models.losses.seg_losses import SegCrossEntropyLoss
import support_models  # noqa: F401  (registers the tiny test backbones)
from wsss.registry import SEGMENTERS

CFG_DIR = Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'models'



TINY = dict(type='TinyBNBackbone')


def _batch(b=2, h=33, w=33, seed=0):
    g = torch.Generator().manual_seed(seed)
    seg = torch.randint(0, 21, (b, h, w), generator=g)
    seg[:, :4] = 255
    return dict(img=torch.randn(b, 3, h, w, generator=g), seg=seg)


@pytest.mark.parametrize('seg_type, feat_size', [('DeepLabV2', 5), ('DeepLabLargeFOV', 5), ('DeepLabV3Plus', 9)])
def test_shapes(seg_type, feat_size):
    m = SEGMENTERS.build(dict(type=seg_type, backbone=TINY, num_classes=21)).eval()
    img = torch.randn(1, 3, 33, 33)
    with torch.no_grad():
        assert m(img).shape == (1, 21, feat_size, feat_size)
        assert m.predict(img).shape == (1, 21, 33, 33)


def test_aspp_v2_rates_and_sum():
    m = SEGMENTERS.build(dict(type='DeepLabV2', backbone=TINY, num_classes=21)).eval()
    aspp = m.decode_head.aspp
    assert [c.dilation for c in aspp] == [(6, 6), (12, 12), (18, 18), (24, 24)]
    assert [c.padding for c in aspp] == [(6, 6), (12, 12), (18, 18), (24, 24)]
    assert all(c.kernel_size == (3, 3) and c.bias is not None and c.in_channels == 20 and c.out_channels == 21
               for c in aspp)
    img = torch.randn(1, 3, 33, 33)
    with torch.no_grad():
        deep = m.backbone(img)[-1]
        torch.testing.assert_close(m(img), sum(c(deep) for c in aspp))


def test_ce_ignores_255_and_upsamples_logits():
    torch.manual_seed(0)
    loss = SegCrossEntropyLoss(ignore_index=255)
    logits = torch.randn(2, 21, 5, 5)
    seg = torch.randint(0, 21, (2, 17, 17))
    seg[0, :9] = 255
    up = F.interpolate(logits, size=(17, 17), mode='bilinear', align_corners=False)
    valid = seg != 255
    ref = F.cross_entropy(up.permute(0, 2, 3, 1)[valid], seg[valid])
    torch.testing.assert_close(loss(logits, seg), ref)
    # the labels of ignored pixels do not matter
    seg2 = seg.clone()
    seg2[0, :9] = 3
    assert not torch.allclose(loss(logits, seg2), ref)
    # all ignored -> 0, not NaN
    assert float(loss(logits, torch.full_like(seg, 255))) == 0.0
    # kazuto1011 alternative: labels shrunk with nearest
    small = SegCrossEntropyLoss(resize='labels')(logits, seg)
    assert math.isfinite(float(small))


def test_every_parameter_gets_a_gradient():
    for seg_type in ('DeepLabV2', 'DeepLabLargeFOV', 'DeepLabV3Plus'):
        torch.manual_seed(0)
        m = SEGMENTERS.build(dict(type=seg_type, backbone=TINY, num_classes=21)).train()
        out = m.loss(_batch())
        assert set(out) == {'loss_ce', 'acc_seg'} and not out['acc_seg'].requires_grad
        sum(v for k, v in out.items() if k.startswith('loss_')).backward()
        for name, p in m.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, (seg_type, name)


def test_deeplabv2_resnet50_frozen_bn():
    m = SEGMENTERS.build(dict(type='DeepLabV2', num_classes=21,
                              backbone=dict(type='TorchvisionResNet', depth=50, output_stride=8, norm_eval=True)))
    m.train()
    batch = _batch(b=1)
    assert m(batch['img']).shape == (1, 21, 5, 5)
    m.loss(batch)['loss_ce'].backward()
    bns = [x for x in m.modules() if isinstance(x, nn.BatchNorm2d)]
    assert all(not bn.training and bn.weight.grad is None for bn in bns)
    assert m.backbone.layer4[0].conv2.weight.grad is not None and m.decode_head.aspp[3].bias.grad is not None


def _build_from_config(name, backbone=None):
    cfg = Config.fromfile(str(CFG_DIR / name))
    model_cfg = cfg.model.to_dict()
    if backbone is not None:
        model_cfg['backbone'] = backbone
    return SEGMENTERS.build(model_cfg), cfg


@pytest.mark.parametrize('name', ['deeplabv2_r101.py', 'deeplab_largefov_r101.py', 'deeplabv3plus_r101.py',
                                  'deeplabv2_lite0.py', 'deeplabv3plus_lite0.py'])
def test_configs_build(name):
    model, _ = _build_from_config(name, backbone=None if 'lite0' in name else TINY)
    with torch.no_grad():
        assert model.eval().predict(torch.randn(1, 3, 33, 33)).shape == (1, 21, 33, 33)


def test_deeplabv2_config_lr_multipliers():
    """ASPP weights 10x and biases 20x through mmengine's DefaultOptimWrapperConstructor."""
    from mmengine.optim import DefaultOptimWrapperConstructor
    model, cfg = _build_from_config('deeplabv2_r101.py', backbone=TINY)
    ctor = DefaultOptimWrapperConstructor(dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                                                                                   weight_decay=5e-4)),
                                          cfg.paramwise_cfg.to_dict())
    groups = ctor(model).optimizer.param_groups
    lr_of = {id(p): g['lr'] for g in groups for p in g['params']}
    for name, p in model.named_parameters():
        want = (0.2 if name.endswith('bias') else 0.1) if name.startswith('decode_head') else 0.01
        assert lr_of[id(p)] == pytest.approx(want), name


def test_msc_training_outputs_and_losses():
    """deeplab-pytorch's MSC: outputs at scales 1 / 0.5 / 0.75 + their max, one CE each on labels shrunk to the
    output's size (nearest at pixel centres, as PIL)."""
    import numpy as np
    from PIL import Image

    from wsss.models.losses.seg_losses import shrink_labels
    torch.manual_seed(0)
    m = SEGMENTERS.build(dict(type='DeepLabV2', backbone=TINY, num_classes=21, msc_scales=(0.5, 0.75))).train()
    img = torch.randn(2, 3, 64, 64)
    outs = m.msc_forward(img)
    assert [tuple(o.shape[-2:]) for o in outs] == [(8, 8), (4, 4), (6, 6), (8, 8)]
    full = outs[0]
    ups = [F.interpolate(o, size=(8, 8), mode='bilinear', align_corners=False) for o in outs[1:3]]
    torch.testing.assert_close(outs[-1], torch.maximum(full, torch.maximum(*ups)))
    seg = torch.randint(0, 21, (2, 64, 64))
    seg[:, :5] = 255
    losses = m.loss({'img': img, 'seg': seg})
    assert set(losses) == {'loss_ce', 'loss_ce_x0.5', 'loss_ce_x0.75', 'loss_ce_max', 'acc_seg'}
    for name, out in zip(['loss_ce', 'loss_ce_x0.5', 'loss_ce_x0.75', 'loss_ce_max'], outs):
        small = shrink_labels(seg, out.shape[-2:])
        ref = np.stack([np.asarray(Image.fromarray(s.numpy().astype(np.float32)).resize(
            out.shape[-2:][::-1], resample=Image.NEAREST)) for s in seg]).astype(np.int64)
        np.testing.assert_array_equal(small.numpy(), ref)               # PIL's nearest, as deeplab-pytorch
        valid = small != 255
        want = F.cross_entropy(out.permute(0, 2, 3, 1)[valid], small[valid])
        torch.testing.assert_close(losses[name], want)
    # test time: the max fusion upsampled to the input; predict stays single-scale
    m.eval()
    with torch.no_grad():
        torch.testing.assert_close(m.predict_msc_max(img), F.interpolate(m.msc_forward(img)[-1], size=(64, 64),
                                                                         mode='bilinear', align_corners=False))
        torch.testing.assert_close(m.predict(img), F.interpolate(m(img), size=(64, 64), mode='bilinear',
                                                                 align_corners=False))
    with pytest.raises(ValueError, match='one loss_decode'):
        SEGMENTERS.build(dict(type='SANet', backbone=dict(type='TinyBNBackbone'), num_classes=21, msc_scales=(0.5,)))


def test_msc_max_evaluation_protocol():
    import numpy as np

    from wsss.stages.seg.evaluate import predict_probs, section_name
    assert section_name('val', (1.0,), True, True, msc_max=True) == 'val_mscmax_flip_crf'
    assert section_name('val', (0.5, 1.0), False, False) == 'val_ms'
    torch.manual_seed(0)
    m = SEGMENTERS.build(dict(type='DeepLabV2', backbone=TINY, num_classes=21)).eval()
    image = np.random.default_rng(0).integers(0, 255, (40, 56, 3), dtype=np.uint8)
    probs = predict_probs(m, image, msc_max=True)
    from wsss.utils.imaging import normalize
    with torch.no_grad():
        want = m.predict_msc_max(torch.from_numpy(normalize(image))[None]).softmax(1)[0]
    torch.testing.assert_close(probs, want)
