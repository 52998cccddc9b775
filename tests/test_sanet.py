"""SANet: the SA module formula (hand-set weights), head shapes, the alpha/beta loss weighting (hand-computed)
and the categorical target from image labels."""
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from wsss.registry import DECODE_HEADS
from wsss.models.segmenters.sa_head import SAModule, classes_present
import support_models  # noqa: F401  (registers the tiny test backbones)
from wsss.registry import SEGMENTERS

CFG_DIR = Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'models'



TINY = dict(type='TinyBNBackbone')


def _identity_sa(channels=2, pool_kernel=2):
    """SA module whose conv-BN-ReLU branches are exactly ReLU (identity 3x3 kernels, BN eval with 0/1 stats)."""
    sa = SAModule(channels, channels, pool_kernel=pool_kernel, num_convs=1).eval()
    for branch in (sa.main, sa.attn):
        conv, bn = branch[0].conv, branch[0].bn
        with torch.no_grad():
            conv.weight.zero_()
            for c in range(channels):
                conv.weight[c, c, 1, 1] = 1.0
        bn.eps = 0.0
        bn.reset_parameters()  # running mean 0, var 1, weight 1, bias 0
    return sa


def test_sa_module_formula_hand_set_weights():
    sa = _identity_sa()
    # channel 0: every 2x2 block averages to 3 -> attention 3 everywhere; channel 1: blocks average to -1
    ch0 = torch.tensor([[4., 2., 5., 1.], [3., 3., 0., 6.], [-2., 8., 3., 3.], [6., 0., 3., 3.]])
    ch1 = torch.tensor([[-1., -1., 1., -3.], [-1., -1., -1., -1.], [0., -2., -4., 2.], [-2., 0., 0., -2.]])
    x = torch.stack([ch0, ch1])[None]
    with torch.no_grad():
        out = sa(x)
    # out = attn * main + attn with attn = up(relu(avgpool(x))) (no sigmoid), main = relu(x)
    torch.testing.assert_close(out[0, 0], 3.0 * ch0.clamp(min=0) + 3.0)
    torch.testing.assert_close(out[0, 1], torch.zeros(4, 4))


def test_sa_module_general_input_and_odd_size():
    sa = _identity_sa(channels=3)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 7)
    with torch.no_grad():
        out = sa(x)
    a = F.interpolate(F.avg_pool2d(x, 2, 2, ceil_mode=True).clamp(min=0), size=(5, 7), mode='bilinear',
                      align_corners=False)
    assert out.shape == x.shape
    torch.testing.assert_close(out, a * x.clamp(min=0) + a)


def test_sanet_shapes_and_head_outputs():
    m = SEGMENTERS.build(dict(type='SANet', backbone=TINY, num_classes=21,
                              decode_head=dict(channels=8, fuse_channels=16, dense_channels=16))).eval()
    img = torch.randn(2, 3, 33, 33)
    with torch.no_grad():
        assert m(img).shape == (2, 21, 9, 9)  # fused at the finest selected stage (stride 4)
        assert m.predict(img).shape == (2, 21, 33, 33)
        out = m.decode_head.forward_all(m.backbone(img))
    assert out['mask'].shape == (2, 21, 9, 9) and out['dense'].shape == (2, 21, 5, 5) and out['cat'].shape == (2, 20)
    assert len(m.decode_head.sa_modules) == 4


def _tiny_head(**kw):
    return DECODE_HEADS.build(dict(type='SAHead', in_channels=[4, 4], in_index=(0, 1), num_classes=3, channels=4,
                                   fuse_channels=4, dense_channels=4, **kw))


def test_loss_weighting_alpha_beta_hand_computed():
    head = _tiny_head()
    # fixed outputs at label resolution (1x2 pixels): pixel 0 is class 0, pixel 1 is ignored
    mask = torch.zeros(1, 3, 1, 2)                                   # CE = ln 3
    dense = torch.zeros(1, 3, 1, 2)
    dense[0, 0, 0, 0] = math.log(2.0)                                # p(class 0) = 2/4 -> CE = ln 2
    dense[0, :, 0, 1] = torch.tensor([50., -50., 7.])                # ignored pixel: must not count
    cat = torch.zeros(1, 2)                                          # BCE(0, y) = ln 2 for y in {0, 1}
    head.forward_all = lambda feats: {'mask': mask, 'cat': cat, 'dense': dense}
    batch = dict(seg=torch.tensor([[[0, 255]]]), cls_label=torch.tensor([[1., 0.]]))
    out = head.loss(None, batch)
    assert out['loss_mask'].item() == pytest.approx(math.log(3.0))
    assert out['loss_cat'].item() == pytest.approx(0.2 * math.log(2.0))   # alpha = 0.2
    assert out['loss_den'].item() == pytest.approx(0.8 * math.log(2.0))   # beta = 0.8
    total = sum(v for k, v in out.items() if k.startswith('loss_'))
    assert total.item() == pytest.approx(math.log(6.0))  # ln3 + 0.2 ln2 + 0.8 ln2


def test_cat_loss_uses_image_labels_else_seg():
    head = _tiny_head()
    cat = torch.tensor([[2.0, -1.0]])
    zeros = torch.zeros(1, 3, 2, 2)
    head.forward_all = lambda feats: {'mask': zeros, 'cat': cat, 'dense': zeros}
    seg = torch.tensor([[[0, 1], [1, 255]]])  # class 1 present (foreground index 0)
    from_seg = head.loss(None, dict(seg=seg))['loss_cat']
    ref_seg = 0.2 * F.binary_cross_entropy_with_logits(cat, torch.tensor([[1., 0.]]))
    torch.testing.assert_close(from_seg, ref_seg)
    # image labels win over the segmentation (WSSS: the real image-level labels)
    from_cls = head.loss(None, dict(seg=seg, cls_label=torch.tensor([[0., 1.]])))['loss_cat']
    ref_cls = 0.2 * F.binary_cross_entropy_with_logits(cat, torch.tensor([[0., 1.]]))
    torch.testing.assert_close(from_cls, ref_cls)


def test_classes_present():
    seg = torch.tensor([[[0, 2], [255, 2]], [[255, 255], [1, 1]]])
    assert classes_present(seg, 3).tolist() == [[1., 0., 1.], [0., 1., 0.]]


def test_sanet_every_parameter_gets_a_gradient_with_cls_label():
    torch.manual_seed(0)
    m = SEGMENTERS.build(dict(type='SANet', backbone=TINY, num_classes=21,
                              decode_head=dict(channels=8, fuse_channels=16, dense_channels=16))).train()
    seg = torch.randint(0, 21, (2, 33, 33))
    seg[:, -3:] = 255
    cls = torch.zeros(2, 20)
    cls[0, 3] = cls[1, 14] = 1
    out = m.loss(dict(img=torch.randn(2, 3, 33, 33), seg=seg, cls_label=cls))
    assert set(out) == {'loss_mask', 'loss_cat', 'loss_den', 'acc_seg'}
    sum(v for k, v in out.items() if k.startswith('loss_')).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize('name', ['sanet_r101.py', 'sanet_lite0.py'])
def test_sanet_configs(name):
    cfg = Config.fromfile(str(CFG_DIR / name)).model.to_dict()
    head = cfg['decode_head']
    assert head['loss_cat']['loss_weight'] == 0.2 and head['loss_den']['loss_weight'] == 0.8
    assert head['loss_mask']['loss_weight'] == 1.0
    if 'r101' in name:
        cfg['backbone'] = TINY
    m = SEGMENTERS.build(cfg).eval()
    assert len(m.decode_head.sa_modules) == 4
    with torch.no_grad():
        assert m.predict(torch.randn(1, 3, 33, 33)).shape == (1, 21, 33, 33)
