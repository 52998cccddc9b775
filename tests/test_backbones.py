"""Backbones: torchvision ResNet (shapes, frozen BN/stages, torchvision and deeplab-pytorch key layouts) and
EfficientNet-Lite0 (shapes, freezing, the packaged-weights converter, two ImageNet predictions)."""
import re

import pytest
import torch
import torchvision
from torch import nn

from wsss.models.backbones.backbone_utils import IMAGENET_MEAN, IMAGENET_STD, InputRenorm
from wsss.models.backbones.efficientnet_lite import (EfficientNetLite0, _timm_lite0_layout, convert_efficientnet_lite0,
                                                     default_lite0_weights_path, efficientnet_lite0_classifier)
from wsss.models.backbones.torchvision_resnet import TorchvisionResNet, convert_deeplab_resnet_keys
from wsss.registry import BACKBONES


def _sizes(feats):
    return [tuple(f.shape[-2:]) for f in feats]


@pytest.fixture(scope='module')
def r50_os8():
    torch.manual_seed(0)
    return TorchvisionResNet(depth=50, output_stride=8, norm_eval=True, frozen_stages=1)


def test_resnet_shapes_os8(r50_os8):
    with torch.no_grad():
        feats = r50_os8(torch.randn(1, 3, 33, 33))
    assert r50_os8.out_channels == [256, 512, 1024, 2048] and r50_os8.output_stride == 8
    assert [f.shape[1] for f in feats] == r50_os8.out_channels
    assert _sizes(feats) == [(9, 9), (5, 5), (5, 5), (5, 5)]  # strides 4, 8, 8, 8


def test_resnet_shapes_os16_built_from_registry():
    b = BACKBONES.build(dict(type='TorchvisionResNet', depth=50, output_stride=16))
    with torch.no_grad():
        feats = b(torch.randn(1, 3, 33, 33))
    assert b.output_stride == 16 and _sizes(feats) == [(9, 9), (5, 5), (3, 3), (3, 3)]
    assert b.layer4[1].conv2.dilation == (2, 2) and b.layer3[0].conv2.stride == (2, 2)


def test_resnet_norm_eval_and_frozen_stages(r50_os8):
    m = r50_os8.train()
    bns = [x for x in m.modules() if isinstance(x, nn.BatchNorm2d)]
    assert bns and all(not bn.training for bn in bns)
    assert all(not p.requires_grad for bn in bns for p in bn.parameters())
    assert all(not p.requires_grad for p in list(m.conv1.parameters()) + list(m.layer1.parameters()))
    assert m.layer2[0].conv1.weight.requires_grad and m.layer4[2].conv3.weight.requires_grad
    stats = [bn.running_mean.clone() for bn in bns]
    m.zero_grad(set_to_none=True)
    sum(f.mean() for f in m(torch.randn(1, 3, 17, 17))).backward()
    assert all(torch.equal(s, bn.running_mean) for s, bn in zip(stats, bns))  # statistics not updated
    assert all(bn.weight.grad is None for bn in bns)
    assert m.conv1.weight.grad is None and m.layer2[0].conv1.weight.grad is not None


def _tv_stages(net, x):
    x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
    outs = []
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        x = layer(x)
        outs.append(x)
    return outs


def test_resnet_loads_torchvision_file(tmp_path):
    torch.manual_seed(1)
    tv = torchvision.models.resnet50(weights=None).eval()
    for bn in (x for x in tv.modules() if isinstance(x, nn.BatchNorm2d)):  # non-trivial statistics
        bn.running_mean.uniform_(-0.1, 0.1)
        bn.running_var.uniform_(0.5, 1.5)
    sd = {k: v for k, v in tv.state_dict().items() if not k.endswith('num_batches_tracked')}  # old-file style
    path = tmp_path / 'resnet50-test.pth'
    torch.save(sd, path)  # includes fc.*, which the backbone drops
    b = TorchvisionResNet(depth=50, output_stride=32, pretrained=str(path)).eval()
    x = torch.randn(1, 3, 24, 24)
    with torch.no_grad():
        for ours, ref in zip(b(x), _tv_stages(tv, x)):
            torch.testing.assert_close(ours, ref)


def _to_deeplab_layout(tv_sd):
    """Independent inverse of the documented mapping: torchvision keys -> deeplab-pytorch 'base.' keys."""
    branch = {'conv1': 'reduce.conv', 'bn1': 'reduce.bn', 'conv2': 'conv3x3.conv', 'bn2': 'conv3x3.bn',
              'conv3': 'increase.conv', 'bn3': 'increase.bn', 'downsample.0': 'shortcut.conv',
              'downsample.1': 'shortcut.bn'}
    out = {}
    for k, v in tv_sd.items():
        if k.startswith('fc.'):
            continue
        if k.startswith('conv1.'):
            out['base.layer1.conv1.conv.' + k.split('.', 1)[1]] = v
        elif k.startswith('bn1.'):
            out['base.layer1.conv1.bn.' + k.split('.', 1)[1]] = v
        else:
            m = re.match(r'layer(\d)\.(\d+)\.(conv\d|bn\d|downsample\.\d)\.(\w+)$', k)
            out[f'base.layer{int(m[1]) + 1}.block{int(m[2]) + 1}.{branch[m[3]]}.{m[4]}'] = v
    out['base.aspp.c0.weight'] = torch.zeros(21, 2048, 3, 3)
    out['base.aspp.c0.bias'] = torch.zeros(21)
    return out


def test_deeplab_key_mapping_pins():
    sd = {'base.layer1.conv1.conv.weight': 0, 'base.layer1.conv1.bn.running_var': 1,
          'base.layer2.block1.shortcut.bn.bias': 2, 'base.layer5.block3.conv3x3.conv.weight': 3,
          'layer4.block23.increase.bn.weight': 4, 'base.layer3.block1.proj.conv.weight': 5, 'base.aspp.c3.bias': 6}
    out, dropped = convert_deeplab_resnet_keys(sd)
    assert out == {'conv1.weight': 0, 'bn1.running_var': 1, 'layer1.0.downsample.1.bias': 2,
                   'layer4.2.conv2.weight': 3, 'layer3.22.bn3.weight': 4, 'layer2.0.downsample.0.weight': 5}
    assert dropped == ['base.aspp.c3.bias']


def test_resnet_loads_deeplab_caffe_layout(tmp_path):
    torch.manual_seed(2)
    src = TorchvisionResNet(depth=50, output_stride=8, style='caffe')
    path = tmp_path / 'deeplab_like.pth'
    torch.save({'state_dict': _to_deeplab_layout(src.state_dict())}, path)
    b = TorchvisionResNet(depth=50, output_stride=8, style='caffe', pretrained=str(path))
    for k, v in src.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    # caffe style = MSRA/DeepLab-v2 structure
    assert b.layer2[0].conv1.stride == (2, 2) and b.layer2[0].conv2.stride == (1, 1)
    assert b.layer3[0].conv2.dilation == (2, 2) and b.layer4[0].conv2.dilation == (4, 4)
    assert b.maxpool.ceil_mode


def test_caffe_input_conversion():
    r = InputRenorm(IMAGENET_MEAN, IMAGENET_STD, (122.675, 116.669, 104.008), (1., 1., 1.), scale=255., bgr=True)
    rgb01 = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1)
    x = (rgb01 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    expect = torch.tensor([0.9 * 255 - 104.008, 0.5 * 255 - 116.669, 0.2 * 255 - 122.675]).view(1, 3, 1, 1)  # BGR
    torch.testing.assert_close(r(x), expect, rtol=0, atol=1e-3)
    assert InputRenorm().identity


# ---------------------------------------------------------------- EfficientNet-Lite0

@pytest.mark.parametrize('os_, sizes', [(8, [(17, 17), (9, 9), (5, 5), (5, 5), (5, 5)]),
                                        (16, [(17, 17), (9, 9), (5, 5), (3, 3), (3, 3)]),
                                        (32, [(17, 17), (9, 9), (5, 5), (3, 3), (2, 2)])])
def test_lite0_shapes(os_, sizes):
    b = EfficientNetLite0(output_stride=os_)
    with torch.no_grad():
        feats = b(torch.randn(1, 3, 33, 33))
    assert b.out_channels == [16, 24, 40, 112, 320] and b.output_stride == os_
    assert [f.shape[1] for f in feats] == b.out_channels and _sizes(feats) == sizes


def test_lite0_frozen_stages_and_norm_eval():
    b = BACKBONES.build(dict(type='EfficientNetLite0', output_stride=8, frozen_stages=2, norm_eval=True)).train()
    assert all(not p.requires_grad for m in (b.body.conv_stem, b.body.blocks[0], b.body.blocks[1])
               for p in m.parameters())
    assert b.body.blocks[2][0].conv_pw.weight.requires_grad
    bns = [m for m in b.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(not bn.training and not bn.weight.requires_grad for bn in bns)


def test_pretrained_lite0_draws_the_same_randomness_whatever_was_built_before():
    """The converter's cached key layout must not draw from the global RNG: the demo's segmenter head
    was initialised differently after a CAM stage had built (and cached) it in the same process."""
    def draws_after_build():
        torch.manual_seed(0)
        EfficientNetLite0(output_stride=16, pretrained=True)
        return torch.rand(4)

    _timm_lite0_layout.cache_clear()
    first = draws_after_build()  # fills the cache
    assert torch.equal(first, draws_after_build())


def test_lite0_converter_covers_all_keys_in_order():
    sd = torch.load(default_lite0_weights_path(), map_location='cpu', weights_only=True)
    assert len(sd) == 296
    conv = convert_efficientnet_lite0(sd)
    layout = _timm_lite0_layout()
    assert [k for k, _ in layout] == list(conv)  # every timm key, classifier included
    # the documented renaming == pairing the file's tensors in order, shape for shape
    for (src_key, src), (dst_key, shape), dst in zip(sd.items(), layout, conv.values()):
        assert dst is src and tuple(src.shape) == shape, (src_key, dst_key)


def _timm_preprocess(name, crop_pct):
    from PIL import Image
    import skimage.data
    from timm.data import create_transform, resolve_data_config
    cfg = resolve_data_config({}, model=_classifier())
    assert cfg['mean'] == (0.5, 0.5, 0.5) and cfg['std'] == (0.5, 0.5, 0.5) and cfg['interpolation'] == 'bicubic'
    cfg['crop_pct'] = crop_pct
    return create_transform(**cfg)(Image.fromarray(getattr(skimage.data, name)()))[None]


_CLS = {}


def _classifier():
    if 'm' not in _CLS:
        _CLS['m'] = efficientnet_lite0_classifier(pretrained=True)
    return _CLS['m']


def test_lite0_converted_classifier_imagenet_predictions():
    model = _classifier()
    with torch.no_grad():
        # resize the short side to 224 (bicubic), centre crop 224, mean = std = 0.5
        cat = model(_timm_preprocess('chelsea', 1.0)).softmax(1)[0]
        coffee = model(_timm_preprocess('coffee', 1.0)).softmax(1)[0]
        # timm's own pretrained_cfg crop (crop_pct 0.875): chelsea is a near tie tiger cat (282) / Egyptian cat
        cat_875 = model(_timm_preprocess('chelsea', 0.875)).softmax(1)[0]
        coffee_875 = model(_timm_preprocess('coffee', 0.875)).softmax(1)[0]
    assert int(cat.argmax()) == 285  # Egyptian cat
    assert int(coffee.argmax()) == 967 and int(coffee_875.argmax()) == 967  # espresso
    assert 285 in cat_875.topk(2).indices.tolist() and set(cat_875.topk(3).indices.tolist()) == {281, 282, 285}


def test_lite0_backbone_pretrained_true_matches_classifier_trunk():
    """pretrained=True loads the packaged file; ImageNet-normalised input is re-normalised to mean=std=0.5."""
    b = EfficientNetLite0(output_stride=32, pretrained=True).eval()
    cls = _classifier()
    rgb01 = torch.rand(1, 3, 64, 64)
    x_imnet = (rgb01 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        ours = b(x_imnet)[-1]
        y = cls.bn1(cls.conv_stem((rgb01 - 0.5) / 0.5))
        for blk in cls.blocks:
            y = blk(y)
    torch.testing.assert_close(ours, y, rtol=1e-4, atol=1e-4)


def test_lite0_out_indices_drop_the_blocks_after_the_last_level():
    """Levels 0-3 (the CAM backbone): blocks 5-6 are gone from the module and its state_dict, the packaged weights
    still load, and the four levels equal those of the full five-level model."""
    full = EfficientNetLite0(output_stride=8, pretrained=True).eval()
    cut = EfficientNetLite0(output_stride=8, pretrained=True, out_indices=(0, 1, 2, 3)).eval()
    assert len(full.body.blocks) == 7 and len(cut.body.blocks) == 5 and cut.out_channels == [16, 24, 40, 112]
    assert not any(k.startswith(('body.blocks.5.', 'body.blocks.6.')) for k in cut.state_dict())
    assert set(cut.state_dict()) < set(full.state_dict())
    x = torch.randn(2, 3, 48, 48)
    with torch.no_grad():
        for a, b in zip(cut(x), full(x)[:4], strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_vgg16_is_torchvisions_features_without_pool5(tmp_path):
    """SeeNet's backbone: torchvision's VGG-16 layers and keys up to conv5_3 (no pool5), strides 4/8/16."""
    from torchvision.models.vgg import cfgs, make_layers
    torch.manual_seed(0)
    features = make_layers(cfgs['D'])            # torchvision vgg16().features
    torch.save({f'features.{k}': v for k, v in features.state_dict().items()} |
               {'classifier.0.weight': torch.zeros(2, 2)}, tmp_path / 'vgg16.pth')
    m = BACKBONES.build(dict(type='VGG16', pretrained=str(tmp_path / 'vgg16.pth'), frozen_stages=2)).eval()
    x = torch.randn(1, 3, 48, 40)
    outs = m(x)
    assert [tuple(o.shape[1:]) for o in outs] == [(256, 12, 10), (512, 6, 5), (512, 3, 2)]
    assert m.out_channels == [256, 512, 512] and m.output_stride == 16
    with torch.no_grad():
        torch.testing.assert_close(outs[-1], features[:30](x))       # conv5_3 + ReLU, before pool5
    assert not m.features[0].weight.requires_grad and m.features[10].weight.requires_grad  # blocks 1-2 frozen
