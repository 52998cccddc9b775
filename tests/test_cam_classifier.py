"""CAMClassifier: the four method configs (plain CAM, EPS, SeeNet, EPS+SeeNet) on a tiny test backbone."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import support_models  # noqa: F401  (registers the tiny test backbones)
from wsss.registry import CAM_MODELS



C = 4
SEENET_TINY = dict(num_convs=1, channels=5, dropout=0.0)
CONFIGS = {
    'cam': dict(background=False, dropout=0.5),
    'eps': dict(background=True, sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5)),
    'seenet': dict(background=False, seenet=SEENET_TINY),
    'eps_seenet': dict(background=True, seenet=SEENET_TINY, sal_loss=dict(type='EPSSaliencyLoss')),
}
EXPECTED_LOSSES = {
    'cam': {'loss_cls'},
    'eps': {'loss_cls', 'loss_sal'},
    'seenet': {'loss_cls', 'loss_cls_b', 'loss_cls_c'},
    'eps_seenet': {'loss_cls', 'loss_sal', 'loss_cls_b', 'loss_cls_c', 'loss_sal_fused'},
}


def build(name, **over):
    torch.manual_seed(0)
    cfg = dict(type='CAMClassifier', backbone=dict(type='TinyCAMTestBackbone'), num_classes=C, **CONFIGS[name])
    cfg.update(over)
    return CAM_MODELS.build(cfg)


def batch(b=2, size=12):
    g = torch.Generator().manual_seed(1)
    lab = torch.tensor([[1, 0, 1, 0], [0, 1, 0, 0]], dtype=torch.float32)[:b]
    return dict(img=torch.randn(b, 3, size, size, generator=g), cls_label=lab,
                sal=torch.rand(b, 1, size, size, generator=g))


@pytest.mark.parametrize('name', list(CONFIGS))
def test_losses_and_every_param_gets_gradient(name):
    model = build(name)
    model.train()
    losses = model.loss(batch())
    assert set(losses) == EXPECTED_LOSSES[name]
    total = sum(v for k, v in losses.items() if k.startswith('loss_'))
    assert torch.isfinite(total)
    total.backward()
    for n, p in model.named_parameters():
        assert p.grad is not None, f'{name}: no gradient for {n}'
        assert p.grad.abs().sum() > 0, f'{name}: zero gradient for {n}'


@pytest.mark.parametrize('name', list(CONFIGS))
def test_cam_maps_shape_non_negative_and_attributes(name):
    model = build(name).eval()
    with torch.no_grad():
        maps = model.cam_maps(batch()['img'], cls_label=batch()['cls_label'])
    assert maps.shape == (2, C, 6, 6)
    assert (maps >= 0).all()
    assert model.background_channel == CONFIGS[name]['background']
    assert model.flip_fusion == ('max' if 'seenet' in name else 'sum')


def test_plain_cam_rule_and_loss():
    model = build('cam').eval()
    b = batch()
    with torch.no_grad():
        feat = model.backbone(b['img'])[-1]
        cam = F.conv2d(feat, model.fc8.weight)
        torch.testing.assert_close(model.cam_maps(b['img']), torch.relu(cam))
        expected = F.multilabel_soft_margin_loss(cam.mean((2, 3)), b['cls_label'])
        torch.testing.assert_close(model.loss(b)['loss_cls'], expected)
    assert model.fc8.weight.shape == (C, 8, 1, 1) and model.fc8.bias is None


def test_eps_rule_background_excluded_from_cls_loss():
    model = build('eps').eval()
    b = batch()
    with torch.no_grad():
        cam = model.fc8(model.backbone(b['img'])[-1])
        assert cam.shape[1] == C + 1
        torch.testing.assert_close(model.cam_maps(b['img']), F.softmax(cam, 1)[:, :C])
        expected = F.multilabel_soft_margin_loss(cam[:, :C].mean((2, 3)), b['cls_label'])
        torch.testing.assert_close(model.loss(b)['loss_cls'], expected)


def test_sal_loss_needs_background_and_batch_needs_sal():
    with pytest.raises(ValueError, match='background'):
        build('cam', sal_loss=dict(type='EPSSaliencyLoss'))
    b = batch()
    del b['sal']
    with pytest.raises(KeyError, match='sal'):
        build('eps').loss(b)


def test_head_names_for_paramwise_custom_keys():
    model = build('eps_seenet')
    heads = {n.split('.')[0] for n, _ in model.named_parameters() if not n.startswith('backbone.')}
    assert heads == {'fc8', 'fc8_b', 'fc8_c'}
    assert not any('fc8' in n for n, _ in model.backbone.named_parameters())
    # S_A and S_B carry the background channel, S_C does not
    assert model.fc8.cls.weight.shape[0] == C + 1
    assert model.fc8_b.cls.weight.shape[0] == C + 1
    assert model.fc8_c.cls.weight.shape[0] == C


def test_mmengine_paramwise_lr_mult_hits_heads_only():
    from mmengine.optim import build_optim_wrapper
    model = build('seenet')
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
                                              paramwise_cfg=dict(custom_keys={'fc8': dict(lr_mult=10)})))
    by_param = {id(p): g['lr'] for g in wrapper.optimizer.param_groups for p in g['params']}
    for n, p in model.named_parameters():
        assert by_param[id(p)] == pytest.approx(0.1 if n.startswith('fc8') else 0.01), n


def test_unknown_seenet_option_rejected():
    with pytest.raises(ValueError, match='unknown seenet options'):
        build('seenet', seenet=dict(delta_hi=0.7))


def test_seenet_bare_fc8_heads_with_num_convs_0():
    model = build('eps_seenet', seenet=dict(num_convs=0))
    assert isinstance(model.fc8, nn.Conv2d) and model.fc8.weight.shape == (C + 1, 8, 1, 1)
    losses = model.loss(batch())
    assert set(losses) == EXPECTED_LOSSES['eps_seenet']


def test_conv_neck_sits_between_backbone_and_every_head():
    m = CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'), background=True,
                              seenet=dict(num_convs=0),
                              neck=dict(type='ConvNeck', num_convs=2, channels=8, dilation=2)))
    keys = set(m.state_dict())
    assert {'neck.convs.0.weight', 'neck.convs.2.bias'} <= keys
    assert m.fc8.weight.shape[1] == 8 and m.fc8_b.weight.shape[1] == 8 and m.fc8_c.weight.shape[1] == 8
    x = torch.randn(2, 3, 32, 32)
    feats = m.backbone(x)[-1]
    assert m.extract_feat(x).shape == (2, 8) + tuple(feats.shape[2:])  # padding = dilation keeps the size
    out = m(x, cls_label=torch.tensor([[1.0] + [0.0] * 19, [0.0, 1.0] + [0.0] * 18]))
    assert out['cam'].shape[:2] == (2, 21)
    with pytest.raises(ValueError, match='num_convs'):
        CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'),
                              neck=dict(type='ConvNeck', num_convs=0)))
