"""ResNet-38 (PSA/EPS): official key names and shapes, a functional re-statement of the forward, freezing."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from wsss.models.backbones.resnet38 import ResNet38, convert_mxnet_keys
from keyfiles import read_key_file
from wsss.engine.config import load_config
from wsss.registry import CAM_MODELS
from wsss.utils.checkpoint import load_state_dict_checked

ROOT = Path(__file__).resolve().parents[1]


def official_entries():
    """(name, shape, dtype) of the official EPS ``resnet38_eps.Net(21)`` state_dict, in order."""
    return read_key_file('eps_resnet38')


def random_official_state_dict(seed=0):
    """Random weights of the official shapes, scaled so activations stay finite through 38 layers."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for name, shape, dtype in official_entries():
        if dtype == torch.int64:
            sd[name] = torch.tensor(7, dtype=torch.int64)
        elif name.endswith('running_var'):
            sd[name] = 0.5 + torch.rand(shape, generator=g)
        elif name.endswith('running_mean') or (name.endswith('.bias') and len(shape) == 1):
            sd[name] = 0.1 * torch.randn(shape, generator=g)
        elif len(shape) == 1:                                         # BN weight
            sd[name] = 0.5 + 0.5 * torch.rand(shape, generator=g)
        else:                                                         # conv: He-style, halved for residual sums
            fan_in = shape[1] * shape[2] * shape[3]
            sd[name] = torch.randn(shape, generator=g) * (0.5 * (2.0 / fan_in) ** 0.5)
    return sd


@pytest.fixture(scope='module')
def official_sd():
    return random_official_state_dict()


@pytest.fixture(scope='module')
def eps_model(official_sd):
    model = CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='ResNet38'), num_classes=20,
                                  head=dict(type='EPSHead', sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5))))
    model.load_state_dict(official_sd, strict=True)
    return model


def test_state_dict_has_every_official_key_and_shape_in_order(eps_model):
    entries = official_entries()
    assert len(entries) == 229
    own = eps_model.state_dict()
    assert list(own) == [n for n, _, _ in entries]
    for name, shape, dtype in entries:
        assert tuple(own[name].shape) == shape and own[name].dtype == dtype, name
    assert own['fc8.weight'].shape == (21, 4096, 1, 1)


def test_official_checkpoint_loads_strict(eps_model, official_sd):
    # loaded values land where the names say
    torch.testing.assert_close(eps_model.backbone.b4_3.conv_branch2a.weight, official_sd['b4_3.conv_branch2a.weight'])
    torch.testing.assert_close(eps_model.backbone.bn7.running_var, official_sd['bn7.running_var'])
    torch.testing.assert_close(eps_model.head.fc8.weight, official_sd['fc8.weight'])
    # the project's checked loader accepts it too, and a 'module.'/'backbone.' layout is accepted by load_state_dict
    load_state_dict_checked(eps_model, official_sd, 'official.pth', strict=True)
    prefixed = {('backbone.' + k if not k.startswith('fc8') else k): v for k, v in official_sd.items()}
    eps_model.load_state_dict(prefixed, strict=True)
    # a wrong shape is reported
    bad = dict(official_sd, **{'fc8.weight': torch.zeros(20, 4096, 1, 1)})
    with pytest.raises(RuntimeError, match='fc8.weight'):
        load_state_dict_checked(eps_model, bad, 'bad.pth')


def test_psa_classifier_loads_strict_into_the_plain_cam_config(official_sd):
    """A PSA ``resnet38_cls`` checkpoint (the same backbone keys, ``fc8.weight`` [20, 4096, 1, 1]) loads into the
    shipped plain CAM model (CAMHead) with strict=True."""
    cfg = load_config(str(ROOT / 'configs/_base_/models/cam_plain.py'))
    model = CAM_MODELS.build(cfg.model)
    psa = dict(official_sd, **{'fc8.weight': official_sd['fc8.weight'][:20].clone()})
    model.load_state_dict(psa, strict=True)
    assert list(model.state_dict()) == list(psa)
    torch.testing.assert_close(model.head.fc8.weight, psa['fc8.weight'])
    torch.testing.assert_close(model.backbone.bn7.running_var, psa['bn7.running_var'])


# --- functional re-statement of the official forward (psa network/resnet38d.py layout) -------------------
def _bn(sd, p, x):
    return F.batch_norm(x, sd[p + '.running_mean'], sd[p + '.running_var'], sd[p + '.weight'], sd[p + '.bias'],
                        False, 0.0, 1e-5)


def _block(sd, name, x, stride, d1, d2):
    pre = F.relu(_bn(sd, name + '.bn_branch2a', x))
    short = F.conv2d(pre, sd[name + '.conv_branch1.weight'], stride=stride) if name + '.conv_branch1.weight' in sd \
        else x
    y = F.conv2d(pre, sd[name + '.conv_branch2a.weight'], stride=stride, padding=d1, dilation=d1)
    y = F.conv2d(F.relu(_bn(sd, name + '.bn_branch2b1', y)), sd[name + '.conv_branch2b1.weight'], padding=d2,
                 dilation=d2)
    return short + y


def _bottleneck(sd, name, x, d):
    pre = F.relu(_bn(sd, name + '.bn_branch2a', x))
    short = F.conv2d(pre, sd[name + '.conv_branch1.weight'])
    y = F.conv2d(pre, sd[name + '.conv_branch2a.weight'])
    y = F.conv2d(F.relu(_bn(sd, name + '.bn_branch2b1', y)), sd[name + '.conv_branch2b1.weight'], padding=d,
                 dilation=d)
    y = F.conv2d(F.relu(_bn(sd, name + '.bn_branch2b2', y)), sd[name + '.conv_branch2b2.weight'])
    return short + y


def reference_forward(sd, x):
    x = F.conv2d(x, sd['conv1a.weight'], padding=1)
    for stage, n in ((2, 3), (3, 3), (4, 6)):
        for i in range(n):
            x = _block(sd, f'b{stage}' + (f'_{i}' if i else ''), x, 2 if i == 0 else 1, 1, 1)
    x = _block(sd, 'b5', x, 1, 1, 2)
    x = _block(sd, 'b5_1', x, 1, 2, 2)
    x = _block(sd, 'b5_2', x, 1, 2, 2)
    x = _bottleneck(sd, 'b6', x, 4)
    x = _bottleneck(sd, 'b7', x, 4)
    return F.relu(_bn(sd, 'bn7', x))


def test_forward_matches_functional_restatement_and_is_deterministic(eps_model, official_sd):
    eps_model.eval()
    x = torch.randn(1, 3, 16, 24, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        outs = eps_model.backbone(x)
        again = eps_model.backbone(x)
        ref = reference_forward(official_sd, x)
    assert [o.shape[1] for o in outs] == eps_model.backbone.out_channels == [256, 512, 1024, 4096]
    assert outs[-1].shape == (1, 4096, 2, 3) and outs[0].shape == (1, 256, 4, 6)
    assert eps_model.backbone.output_stride == 8
    torch.testing.assert_close(outs[-1], ref, rtol=1e-4, atol=1e-5)
    for a, b in zip(outs, again):
        assert torch.equal(a, b)


def test_train_mode_freezes_bn_and_early_stages(eps_model):
    bb = eps_model.backbone
    eps_model.train()
    assert bb.b6.dropout_2b1.training and bb.b6.dropout_2b1.p == 0.3 and bb.b7.dropout_2b2.p == 0.5
    for name, m in bb.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            assert not m.training, name
            assert not m.weight.requires_grad and not m.bias.requires_grad, name
    frozen = {n for n, p in bb.named_parameters() if not p.requires_grad}
    for n, _ in bb.named_parameters():
        top = n.split('.')[0]
        if top in ('conv1a', 'b2', 'b2_1', 'b2_2'):
            assert n in frozen
        elif '.bn_' not in n and not n.startswith('bn7'):
            assert n not in frozen, n
    # every trainable parameter gets a gradient from the EPS losses (16x16 input -> 2x2 CAM)
    g = torch.Generator().manual_seed(2)
    lab = torch.zeros(1, 20)
    lab[0, [3, 14]] = 1
    losses = eps_model.loss(dict(img=torch.randn(1, 3, 16, 16, generator=g), cls_label=lab,
                                 sal=torch.rand(1, 1, 16, 16, generator=g)))
    assert set(losses) == {'loss_cls', 'loss_sal'}
    eps_model.zero_grad()
    sum(losses.values()).backward()
    for n, p in eps_model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and p.grad.abs().sum() > 0, n
        else:
            assert p.grad is None, n
    eps_model.zero_grad(set_to_none=True)


def test_frozen_stages_options():
    bb = ResNet38(frozen_stages=-1, norm_eval=False)
    assert all(p.requires_grad for p in bb.parameters())
    bb.train()
    assert bb.bn7.training
    bb = ResNet38(frozen_stages=0)
    assert not bb.conv1a.weight.requires_grad and bb.b2.conv_branch2a.weight.requires_grad
    with pytest.raises(ValueError):
        ResNet38(frozen_stages=3)


def test_convert_mxnet_keys_official_rule():
    names = {
        'arg:conv1a_weight': 'conv1a.weight',
        'arg:res2a_branch1_weight': 'b2.conv_branch1.weight',
        'arg:res2a_branch2a_weight': 'b2.conv_branch2a.weight',
        'arg:res4b5_branch2b1_weight': 'b4_5.conv_branch2b1.weight',
        'arg:res7a_branch2b2_weight': 'b7.conv_branch2b2.weight',
        'arg:bn3b2_branch2a_gamma': 'b3_2.bn_branch2a.weight',
        'arg:bn5a_branch2b1_beta': 'b5.bn_branch2b1.bias',
        'aux:bn6a_branch2b2_moving_mean': 'b6.bn_branch2b2.running_mean',
        'aux:bn2b1_branch2a_moving_var': 'b2_1.bn_branch2a.running_var',
        'arg:bn7_gamma': 'bn7.weight',
        'aux:bn7_moving_var': 'bn7.running_var',
    }
    arrays = {k: torch.full((2,), float(i)) for i, k in enumerate(names)}
    arrays['arg:linear1000_weight'] = torch.zeros(3)
    arrays['arg:linear1000_bias'] = torch.zeros(3)
    out = convert_mxnet_keys(arrays)
    assert set(out) == set(names.values())
    for i, (k, v) in enumerate(names.items()):
        assert out[v][0].item() == i
    assert convert_mxnet_keys({'res3a_branch1_weight': np.ones(2, np.float32)})['b3.conv_branch1.weight'].sum() == 2
    with pytest.raises(KeyError):
        convert_mxnet_keys({'arg:fc_weight': torch.zeros(1)})


def test_pretrained_from_mxnet_named_file(official_sd, monkeypatch):
    """``pretrained=`` converts MXNet names on the fly and ignores non-backbone keys (fc8, linear1000)."""
    inverse = {}
    for k, v in official_sd.items():
        if k.startswith('fc8') or k.endswith('num_batches_tracked'):
            continue
        block, layer, last = k.split('.') if k.count('.') == 2 else (None, *k.split('.'))
        if block is None:
            mx = {'conv1a': 'arg:conv1a_weight'}.get(layer) or 'bn7_' + {'weight': 'gamma', 'bias': 'beta',
                                                                        'running_mean': 'moving_mean',
                                                                        'running_var': 'moving_var'}[last]
        else:
            stage, sub = (block[1], 'a') if '_' not in block else (block[1], 'b' + block.split('_')[1])
            kind, branch = layer.split('_', 1)
            suffix = 'weight' if kind == 'conv' else {'weight': 'gamma', 'bias': 'beta', 'running_mean': 'moving_mean',
                                                      'running_var': 'moving_var'}[last]
            mx = f'{"res" if kind == "conv" else "bn"}{stage}{sub}_{branch}_{suffix}'
        inverse[mx] = v
    inverse['arg:linear1000_weight'] = torch.zeros(3)
    import wsss.utils.checkpoint as ck
    monkeypatch.setattr(ck, 'load_checkpoint_file', lambda path, map_location='cpu': inverse)
    bb = ResNet38(pretrained='ilsvrc-cls_rna-a1_cls1000_ep-0001.pth')
    sd = bb.state_dict()
    for k, v in official_sd.items():
        if not k.startswith('fc8') and not k.endswith('num_batches_tracked'):
            assert torch.equal(sd[k], v), k
    assert not bb.conv1a.weight.requires_grad
