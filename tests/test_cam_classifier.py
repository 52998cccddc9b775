"""CAMClassifier with each CAM head (plain CAM, EPS, SeeNet, EPS+SeeNet) on a tiny test backbone."""
import inspect
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import support_models  # noqa: F401  (registers the tiny test backbones)
from wsss.engine.config import load_config
from wsss.models.cam import CAMHead, EPSHead, EPSSeeNetHead, SeeNetHead
from wsss.models.cam.seenet import seenet_attention
from wsss.models.cam.seenet_head import BranchHead
from wsss.registry import CAM_HEADS, CAM_MODELS

ROOT = Path(__file__).resolve().parents[1]
C = 4
SEENET_TINY = dict(num_convs=1, channels=5, dropout=0.0)
EPS_LOSS = dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5)
CONFIGS = {
    'cam': dict(dropout=0.5, head=dict(type='CAMHead')),
    'eps': dict(head=dict(type='EPSHead', sal_loss=EPS_LOSS)),
    'seenet': dict(head=dict(type='SeeNetHead', **SEENET_TINY)),
    'eps_seenet': dict(head=dict(type='EPSSeeNetHead', **SEENET_TINY)),
    # the paper-style coupling: saliency loss on the fused distribution, shared gradients, max fusion
    'eps_seenet_paper': dict(head=dict(type='EPSSeeNetHead', fused_sal_loss=True, branch_sal_loss=False,
                                       detach_branches=False, test_fusion='max', **SEENET_TINY)),
}
EXPECTED_LOSSES = {
    'cam': ['loss_cls'],
    'eps': ['loss_cls', 'loss_sal'],
    'seenet': ['loss_cls', 'loss_cls_b', 'loss_cls_c'],
    'eps_seenet': ['loss_cls', 'loss_sal', 'loss_cls_b', 'loss_cls_c', 'loss_sal_b'],
    'eps_seenet_paper': ['loss_cls', 'loss_sal', 'loss_cls_b', 'loss_cls_c', 'loss_sal_fused'],
}
BACKGROUND = {'cam': False, 'eps': True, 'seenet': False, 'eps_seenet': True, 'eps_seenet_paper': True}
METHOD_BASES = {'cam_plain': CAMHead, 'cam_eps': EPSHead, 'cam_seenet': SeeNetHead, 'cam_eps_seenet': EPSSeeNetHead}
COUPLING = dict(detach_branches=True, branch_sal_loss=True, fused_sal_loss=False, test_fusion='mean')


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
    assert list(losses) == EXPECTED_LOSSES[name]
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
    assert model.background_channel == BACKGROUND[name]
    assert model.flip_fusion == ('max' if 'seenet' in name else 'sum')
    assert model.needs_saliency == (name != 'cam' and name != 'seenet')


@pytest.mark.parametrize('base', list(METHOD_BASES))
def test_each_head_is_registered_and_builds_from_its_config(base):
    cls = METHOD_BASES[base]
    assert CAM_HEADS.get(cls.__name__) is cls
    cfg = load_config(str(ROOT / 'configs/_base_/models' / f'{base}.py'))
    assert cfg.model.head.type == cls.__name__
    model = CAM_MODELS.build({**cfg.model, 'backbone': dict(type='TinyCAMTestBackbone'), 'num_classes': C})
    assert type(model.head) is cls
    fc8 = model.head.fc8
    assert (fc8.cls if isinstance(fc8, BranchHead) else fc8).weight.shape[0] == C + int(cls.background_channel)


def test_eps_seenet_coupling_lives_only_in_eps_seenet_head():
    # the method base names the head and nothing of the coupling: the head's defaults are the shipped method
    cfg = load_config(str(ROOT / 'configs/_base_/models/cam_eps_seenet.py'))
    assert dict(cfg.model.head) == {'type': 'EPSSeeNetHead'}
    model = CAM_MODELS.build({**cfg.model, 'backbone': dict(type='TinyCAMTestBackbone'), 'num_classes': C})
    head = model.head
    assert {k: getattr(head, k) for k in COUPLING} == COUPLING
    assert head.sal_loss is not None and model.background_channel
    # background on S_A and S_B (C + 1), not on S_C
    assert [getattr(head, n).cls.weight.shape[0] for n in ('fc8', 'fc8_b', 'fc8_c')] == [C + 1, C + 1, C]
    # the masks come from S_A's softmax foreground probabilities
    b = batch()
    model.eval()
    with torch.no_grad():
        out = model(b['img'], b['cls_label'])
    torch.testing.assert_close(out['att'], seenet_attention(F.softmax(out['cam'], 1)[:, :C], b['cls_label']))
    # no other head takes these options, and no config sets them
    for cls in (CAMHead, EPSHead, SeeNetHead):
        assert not set(COUPLING) & set(inspect.signature(cls.__init__).parameters), cls
    assert {k: inspect.signature(EPSSeeNetHead.__init__).parameters[k].default for k in COUPLING} == COUPLING
    for path in (ROOT / 'configs').rglob('*.py'):
        text = path.read_text()
        assert not any(k in text for k in COUPLING), path


def test_plain_cam_rule_and_loss():
    model = build('cam').eval()
    b = batch()
    with torch.no_grad():
        feat = model.backbone(b['img'])[-1]
        cam = F.conv2d(feat, model.head.fc8.weight)
        torch.testing.assert_close(model.cam_maps(b['img']), torch.relu(cam))
        expected = F.multilabel_soft_margin_loss(cam.mean((2, 3)), b['cls_label'])
        torch.testing.assert_close(model.loss(b)['loss_cls'], expected)
    assert model.head.fc8.weight.shape == (C, 8, 1, 1) and model.head.fc8.bias is None


def test_eps_rule_background_excluded_from_cls_loss():
    model = build('eps').eval()
    b = batch()
    with torch.no_grad():
        cam = model.head.fc8(model.backbone(b['img'])[-1])
        assert cam.shape[1] == C + 1
        torch.testing.assert_close(model.cam_maps(b['img']), F.softmax(cam, 1)[:, :C])
        expected = F.multilabel_soft_margin_loss(cam[:, :C].mean((2, 3)), b['cls_label'])
        torch.testing.assert_close(model.loss(b)['loss_cls'], expected)


def test_sal_loss_needs_background_and_batch_needs_sal():
    # a saliency loss belongs to the heads with a background channel (the EPS rule uses it)
    for head in ('CAMHead', 'SeeNetHead'):
        with pytest.raises(TypeError, match='sal_loss'):
            build('cam', head=dict(type=head, sal_loss=EPS_LOSS))
    b = batch()
    del b['sal']
    with pytest.raises(KeyError, match='sal'):
        build('eps').loss(b)
    with pytest.raises(KeyError, match='sal'):
        build('eps_seenet').loss(b)
    # EPSHead without a saliency loss: a background channel, no saliency read
    m = build('eps', head=dict(type='EPSHead', sal_loss=None))
    assert m.background_channel and not m.needs_saliency and list(m.loss(b)) == ['loss_cls']


def test_head_config_cannot_set_what_the_classifier_gives():
    with pytest.raises(ValueError, match='num_classes'):
        build('cam', head=dict(type='CAMHead', num_classes=3))


def test_head_names_for_paramwise_custom_keys_and_state_dict():
    model = build('eps_seenet')
    heads = {n.split('.')[1] for n, _ in model.named_parameters() if not n.startswith('backbone.')}
    assert heads == {'fc8', 'fc8_b', 'fc8_c'}
    assert all(n.startswith(('backbone.', 'head.fc8')) for n, _ in model.named_parameters())
    assert not any('fc8' in n for n, _ in model.backbone.named_parameters())
    # S_A and S_B carry the background channel, S_C does not
    assert model.head.fc8.cls.weight.shape[0] == C + 1
    assert model.head.fc8_b.cls.weight.shape[0] == C + 1
    assert model.head.fc8_c.cls.weight.shape[0] == C
    # the head's layers are stored at the root of the state_dict (official names); 'head.' keys load too
    sd = model.state_dict()
    assert {k.split('.')[0] for k in sd} == {'backbone', 'fc8', 'fc8_b', 'fc8_c'}
    model.load_state_dict(sd, strict=True)
    model.load_state_dict({('head.' + k if k.startswith('fc8') else k): v for k, v in sd.items()}, strict=True)
    with pytest.raises(RuntimeError, match='fc8_d'):
        model.load_state_dict({**sd, 'fc8_d.weight': sd['fc8.cls.weight']}, strict=True)


def test_mmengine_paramwise_lr_mult_hits_heads_only():
    from mmengine.optim import build_optim_wrapper
    model = build('seenet')
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
                                              paramwise_cfg=dict(custom_keys={'fc8': dict(lr_mult=10)})))
    by_param = {id(p): g['lr'] for g in wrapper.optimizer.param_groups for p in g['params']}
    for n, p in model.named_parameters():
        assert by_param[id(p)] == pytest.approx(0.1 if n.startswith('head.fc8') else 0.01), n


def test_unknown_head_option_rejected():
    with pytest.raises(TypeError, match='delta_hi'):
        build('seenet', head=dict(type='SeeNetHead', delta_hi=0.7))
    with pytest.raises(ValueError, match='test_fusion'):
        build('eps_seenet', head=dict(type='EPSSeeNetHead', test_fusion='sum'))
    with pytest.raises(ValueError, match='flip_fusion'):
        build('cam', head=dict(type='CAMHead', flip_fusion='mean'))


def test_seenet_bare_fc8_heads_with_num_convs_0():
    model = build('eps_seenet', head=dict(type='EPSSeeNetHead', num_convs=0))
    assert isinstance(model.head.fc8, nn.Conv2d) and model.head.fc8.weight.shape == (C + 1, 8, 1, 1)
    assert {'fc8.weight', 'fc8_b.weight', 'fc8_c.weight'} <= set(model.state_dict())
    losses = model.loss(batch())
    assert list(losses) == EXPECTED_LOSSES['eps_seenet']


def test_conv_neck_sits_between_backbone_and_every_head():
    m = CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'),
                              head=dict(type='EPSSeeNetHead', num_convs=0),
                              neck=dict(type='ConvNeck', num_convs=2, channels=8, dilation=2)))
    keys = set(m.state_dict())
    assert {'neck.convs.0.weight', 'neck.convs.2.bias'} <= keys
    assert m.head.fc8.weight.shape[1] == 8 and m.head.fc8_b.weight.shape[1] == 8 and m.head.fc8_c.weight.shape[1] == 8
    x = torch.randn(2, 3, 32, 32)
    feats = m.backbone(x)[-1]
    assert m.extract_feat(x).shape == (2, 8) + tuple(feats.shape[2:])  # padding = dilation keeps the size
    out = m(x, cls_label=torch.tensor([[1.0] + [0.0] * 19, [0.0, 1.0] + [0.0] * 18]))
    assert out['cam'].shape[:2] == (2, 21)
    with pytest.raises(ValueError, match='num_convs'):
        CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'), head=dict(type='CAMHead'),
                              neck=dict(type='ConvNeck', num_convs=0)))
