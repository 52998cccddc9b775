"""Weight import (tools/convert_weights.py, wsss.models.convert): every format on a file written in that format by
the test -- the MXNet NDArray byte layout, torchvision / timm / deeplab-pytorch ResNet key sets, the InSPyReNet
state_dict -- converted, then loaded strictly by our modules; the style check; the .params refusal."""
from __future__ import annotations

import re
import struct

import numpy as np
import pytest
import torch
import torchvision

from keyfiles import read_key_file
from tools_cli import load_tool
from wsss.models.backbones.efficientnet_lite import EfficientNetLite0, _timm_lite0_layout
from wsss.models.backbones.resnet38 import ResNet38
from wsss.models.backbones.torchvision_resnet import TorchvisionResNet
from wsss.models.convert import MXNetParamsError, convert_file, read_mxnet_params
from wsss.models.convert.weights import convert_resnet38_mxnet
from wsss.utils.checkpoint import load_checkpoint_file, save_checkpoint_atomic


pytestmark = pytest.mark.usefixtures('one_thread')   # conftest.py


# ------------------------------------------------------------------------------ MXNet NDArray file, by hand
# Independent writer of the layout of apache/mxnet src/ndarray/ndarray.cc (NDArray::Save): list magic 0x112,
# reserved, uint64 count, arrays, uint64 count, names (uint64 length + bytes). One array: uint32 magic,
# [int32 storage type], shape, context (int32 dev_type, int32 dev_id), int32 type flag, raw C-order data.
FLAG = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2, np.dtype(np.uint8): 3,
        np.dtype(np.int32): 4, np.dtype(np.int8): 5, np.dtype(np.int64): 6}


def mx_array(a: np.ndarray, version: str = 'v2', stype: int = 0, flag=None, dev=(2, 0)) -> bytes:
    a = np.array(a, order='C')  # (np.ascontiguousarray would make a 0-d array 1-d)
    if version in ('v2', 'v3'):
        head = struct.pack('<Ii', 0xF993FAC9 if version == 'v2' else 0xF993FACA, stype)
        head += struct.pack('<i', a.ndim) + struct.pack(f'<{a.ndim}q', *a.shape)
    elif version == 'v1':
        head = struct.pack('<I', 0xF993FAC8) + struct.pack('<i', a.ndim) + struct.pack(f'<{a.ndim}q', *a.shape)
    else:  # legacy: ndim as the magic word, uint32 dims
        head = struct.pack('<I', a.ndim) + struct.pack(f'<{a.ndim}I', *a.shape)
    return head + struct.pack('<ii', *dev) + struct.pack('<i', FLAG[a.dtype] if flag is None else flag) + \
        a.astype(a.dtype.newbyteorder('<')).tobytes()


def mx_file(arrays: list[bytes], names: list[str] | None) -> bytes:
    out = struct.pack('<QQQ', 0x112, 0, len(arrays)) + b''.join(arrays)
    names = names or []
    out += struct.pack('<Q', len(names))
    for n in names:
        raw = n.encode()
        out += struct.pack('<Q', len(raw)) + raw
    return out


TINY = {
    'arg:conv1a_weight': np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 7,
    'arg:bn7_gamma': np.array([1.5, -2.25, 3.0], np.float32),
    'aux:bn7_moving_var': np.array([0.1, 0.2], np.float64),
    'aux:counter': np.array([[1, -2], [3, 2 ** 40]], np.int64),
    'arg:half': np.array([0.5, -1.0, 65504.0], np.float16),
}


def test_mxnet_reader_tiny_file_byte_by_byte(tmp_path):
    path = tmp_path / 'tiny.params'
    data = mx_file([mx_array(a) for a in TINY.values()], list(TINY))
    path.write_bytes(data)
    # the bytes the test wrote are the documented layout: list magic, reserved, count, first array's V2 magic
    assert data[:24] == bytes.fromhex('1201000000000000' '0000000000000000' '0500000000000000')
    assert data[24:32] == bytes.fromhex('c9fa93f9' '00000000')
    out = read_mxnet_params(path)
    assert list(out) == list(TINY)  # names with their arg:/aux: prefixes, in file order
    for k, a in TINY.items():
        assert out[k].dtype == a.dtype and out[k].shape == a.shape and np.array_equal(out[k], a), k
        assert out[k].flags.writeable


def test_mxnet_reader_v1_legacy_v3_bfloat16_empty_and_unnamed(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    bf16 = np.array([1.0, -2.5, 3.140625], np.float32)  # exactly representable in bfloat16
    bf16_raw = (bf16.view(np.uint32) >> 16).astype(np.uint16)
    empty_v2 = struct.pack('<Iii', 0xF993FAC9, 0, 0)  # ndim 0 under V2 = a "none" array: nothing follows
    arrays = [mx_array(a, 'v1'), mx_array(a.astype(np.int32), 'legacy'), mx_array(np.array(7, np.int8), 'v3'),
              struct.pack('<Iii', 0xF993FAC9, 0, 1) + struct.pack('<q', 3) + struct.pack('<iii', 1, 0, 12)
              + bf16_raw.astype('<u2').tobytes(), empty_v2]
    path = tmp_path / 'mixed.params'
    path.write_bytes(mx_file(arrays, ['v1', 'legacy', 'scalar', 'bf16', 'none']))
    out = read_mxnet_params(path)
    assert list(out) == ['v1', 'legacy', 'scalar', 'bf16']
    assert np.array_equal(out['v1'], a) and out['legacy'].dtype == np.int32 and np.array_equal(out['legacy'], a)
    assert out['scalar'].shape == () and out['scalar'] == 7  # V3 (NumPy semantics): ndim 0 is a scalar
    assert out['bf16'].dtype == np.float32 and np.array_equal(out['bf16'], bf16)
    # mx.nd.save of a list: no names -> '0', '1', ...
    path.write_bytes(mx_file([mx_array(a), mx_array(a + 1)], None))
    assert list(read_mxnet_params(path)) == ['0', '1']


def test_mxnet_reader_errors_name_the_file_and_the_problem(tmp_path):
    good = mx_file([mx_array(v) for v in TINY.values()], list(TINY))
    p = tmp_path / 'bad.params'
    p.write_bytes(b'\x13' + good[1:])
    with pytest.raises(MXNetParamsError, match=re.escape(str(p)) + r': not an MXNet NDArray file: bad magic 0x113'):
        read_mxnet_params(p)
    p.write_bytes(good[:212])  # 24 header + 152 first array + 32 second's head: cut inside its data
    with pytest.raises(MXNetParamsError, match=re.escape(str(p)) + r': truncated MXNet NDArray file: array #1 data'):
        read_mxnet_params(p)
    p.write_bytes(mx_file([mx_array(TINY['arg:bn7_gamma'], stype=1)], ['x']))
    with pytest.raises(MXNetParamsError, match=r'unsupported storage type 1 \(row_sparse\) in array #0'):
        read_mxnet_params(p)
    p.write_bytes(mx_file([mx_array(TINY['arg:bn7_gamma'], flag=42)], ['x']))
    with pytest.raises(MXNetParamsError, match='unknown type flag 42'):
        read_mxnet_params(p)
    p.write_bytes(good + b'\0')
    with pytest.raises(MXNetParamsError, match='1 unexpected bytes after the last name'):
        read_mxnet_params(p)


def test_load_checkpoint_file_refuses_params_with_the_convert_command(tmp_path):
    p = tmp_path / 'ilsvrc-cls_rna-a1_cls1000_ep-0001.params'
    p.write_bytes(mx_file([mx_array(v) for v in TINY.values()], list(TINY)))
    out = tmp_path / 'ilsvrc-cls_rna-a1_cls1000_ep-0001.pth'
    cmd = f'python tools/convert_weights.py --format resnet38-mxnet {p} {out}'
    with pytest.raises(RuntimeError, match='is an MXNet NDArray file') as e:
        load_checkpoint_file(p)
    assert cmd in str(e.value)
    # the same file under a .pth name is still recognised by its magic
    q = tmp_path / 'renamed.pth'
    q.write_bytes(p.read_bytes())
    with pytest.raises(RuntimeError, match='--format resnet38-mxnet'):
        load_checkpoint_file(q)


# ------------------------------------------------------------------------------ ResNet-38 (real key set)
_BN = {'weight': 'gamma', 'bias': 'beta', 'running_mean': 'moving_mean', 'running_var': 'moving_var'}


def mxnet_name(key: str) -> str:
    """Our ResNet-38 key -> the MXNet "model A1" name (inverse of the official rule, written independently):
    conv -> arg:res{S}{a|bN}_branch{X}_weight, BN -> arg:/aux:bn{S}{a|bN}_branch{X}_{gamma,beta,moving_*}."""
    if key == 'conv1a.weight':
        return 'arg:conv1a_weight'
    if key.startswith('bn7.'):
        last = key.split('.')[1]
        return ('aux:' if last.startswith('running') else 'arg:') + 'bn7_' + _BN[last]
    block, layer, last = key.split('.')
    stage, _, n = block[1:].partition('_')
    sub = f'b{n}' if n else 'a'
    kind, branch = layer.split('_', 1)
    if kind == 'conv':
        return f'arg:res{stage}{sub}_{branch}_weight'
    return ('aux:' if last.startswith('running') else 'arg:') + f'bn{stage}{sub}_{branch}_{_BN[last]}'


def test_resnet38_mxnet_real_key_set_converts_and_loads_strict(tmp_path):
    """Every official backbone key, mapped back to its MXNet name, with the real shapes (zero-stride views: one
    value per tensor, no memory) -> converted -> one ResNet38 build loads the written file strict."""
    entries = [(k, s) for k, s, d in read_key_file('eps_resnet38')
               if not k.startswith('fc8') and not k.endswith('num_batches_tracked')]
    assert len(entries) == 191  # 229 official entries - fc8.weight - 37 num_batches_tracked
    params = {mxnet_name(k): torch.tensor(float(i)).expand(s) for i, (k, s) in enumerate(entries)}
    assert 'arg:res4b5_branch2b1_weight' in params and 'aux:bn6a_branch2b2_moving_mean' in params
    params['arg:linear1000_weight'] = torch.zeros(1000, 4096)
    params['arg:linear1000_bias'] = torch.zeros(1000)
    sd, meta = convert_resnet38_mxnet(params, 'resnet38.params')
    assert meta == {'model': 'ResNet38', 'style': None}
    own_keys = [k for k, _, _ in read_key_file('eps_resnet38') if not k.startswith('fc8')]
    assert list(sd) == own_keys  # our order; num_batches_tracked filled, linear1000 gone
    assert all(int(sd[k]) == 0 for k in sd if k.endswith('num_batches_tracked'))
    out = tmp_path / 'resnet38_imagenet.pth'
    save_checkpoint_atomic({'state_dict': sd, 'meta': meta}, out)
    assert out.stat().st_size < 2_000_000  # the views stayed views
    bb = ResNet38(pretrained=str(out))
    bb.load_state_dict(load_checkpoint_file(out)['state_dict'], strict=True)
    got = bb.state_dict()
    for i, (k, _) in enumerate(entries):
        assert float(got[k].flatten()[0]) == float(i) and float(got[k].flatten()[-1]) == float(i), k
    # a missing parameter is named
    params.pop('aux:bn3b1_branch2b1_moving_var')
    with pytest.raises(RuntimeError, match=r'resnet38\.params does not fit ResNet38: 1 missing keys '
                                           r'\[b3_1\.bn_branch2b1\.running_var\]'):
        convert_resnet38_mxnet(params, 'resnet38.params')
    with pytest.raises(ValueError, match='not the MXNet ResNet-38 "model A1" ImageNet file'):
        convert_resnet38_mxnet({'arg:fc1_weight': np.zeros(2, np.float32)}, 'resnet38.params')


def test_cli_resnet38_mxnet_reads_params_and_reports_what_is_missing(tmp_path):
    p = tmp_path / 'partial.params'
    names = ['arg:conv1a_weight', 'arg:bn7_gamma', 'arg:linear1000_bias']
    shapes = [(64, 3, 3, 3), (4096,), (1000,)]
    p.write_bytes(mx_file([mx_array(np.zeros(s, np.float32)) for s in shapes], names))
    with pytest.raises(RuntimeError, match=re.escape(str(p)) + r' does not fit ResNet38: \d+ missing keys'):
        load_tool('convert_weights').main(['--format', 'resnet38-mxnet', str(p), str(tmp_path / 'o.pth')])
    assert not (tmp_path / 'o.pth').exists()


# ------------------------------------------------------------------------------ torchvision / timm / deeplab ResNet-50
@pytest.fixture(scope='module')
def tv50_sd():
    """A torchvision ResNet-50 ImageNet file's real key set (fc included, no num_batches_tracked as in old files),
    small-variance random tensors of the right shapes."""
    with torch.device('meta'):
        layout = torchvision.models.resnet50().state_dict()
    g = torch.Generator().manual_seed(0)
    sd = {}
    for k, v in layout.items():
        if k.endswith('num_batches_tracked'):
            continue
        t = torch.randn(v.shape, generator=g) * 0.02
        sd[k] = t.abs() + 0.5 if k.endswith('running_var') else t
    return sd


@pytest.fixture(scope='module')
def r50_pytorch():
    return TorchvisionResNet(depth=50, style='pytorch')


@pytest.fixture(scope='module')
def r50_caffe():
    return TorchvisionResNet(depth=50, style='caffe')


def _assert_backbone_equals(model, sd):
    own = model.state_dict()
    for k, v in sd.items():
        if not k.startswith('fc.'):
            assert torch.equal(own[k], v), k


def test_cli_torchvision_file_converts_and_loads_strict(tmp_path, tv50_sd, r50_pytorch, capsys):
    src, out = tmp_path / 'resnet50-0676ba61.pth', tmp_path / 'r50.pth'
    torch.save(tv50_sd, src)
    assert load_tool('convert_weights').main(['--format', 'torchvision', str(src), str(out)]) == 0
    assert f'model.backbone.pretrained={out}' in capsys.readouterr().out
    ck = load_checkpoint_file(out)
    assert set(ck) == {'state_dict', 'meta'}
    assert ck['meta'] == {'source': str(src), 'format': 'torchvision', 'model': 'TorchvisionResNet',
                          'style': 'pytorch', 'depth': 50, 'dropped': ['fc.weight', 'fc.bias']}
    assert list(ck['state_dict']) == list(r50_pytorch.state_dict())
    r50_pytorch.load_state_dict(ck['state_dict'], strict=True)
    r50_pytorch.load_pretrained(str(out))
    _assert_backbone_equals(r50_pytorch, tv50_sd)


def test_cli_timm_safetensors_round_trip(tmp_path, tv50_sd, r50_pytorch):
    from safetensors.torch import save_file
    src, out = tmp_path / 'resnet50.a1_in1k.safetensors', tmp_path / 'r50_timm.safetensors'
    save_file({k: v * 2 for k, v in tv50_sd.items()}, str(src))  # timm's resnet50 names are torchvision's
    load_tool('convert_weights').main(['--format', 'timm', str(src), str(out)])
    ck = load_checkpoint_file(out)  # meta comes back from the safetensors header
    assert ck['meta']['format'] == 'timm' and ck['meta']['style'] == 'pytorch' and ck['meta']['depth'] == 50
    r50_pytorch.load_pretrained(str(out))
    _assert_backbone_equals(r50_pytorch, {k: v * 2 for k, v in tv50_sd.items()})
    # a deep-stem timm ResNet does not fit, and says so
    deep = {'conv1.0.weight': torch.zeros(32, 3, 3, 3), **{k: v for k, v in tv50_sd.items() if k != 'conv1.weight'}}
    torch.save(deep, tmp_path / 'resnet50d.pth')
    with pytest.raises(ValueError, match='deep-stem ResNet'):
        convert_file('timm', tmp_path / 'resnet50d.pth')


def test_cli_timm_lite0_converts_to_our_efficientnet_layout(tmp_path):
    g = torch.Generator().manual_seed(1)
    sd = {k: torch.randn(s, generator=g) * 0.02 for k, s in _timm_lite0_layout()
          if not k.endswith('num_batches_tracked')}
    src, out = tmp_path / 'tf_efficientnet_lite0.pth', tmp_path / 'lite0.pth'
    torch.save({'state_dict': sd, 'epoch': 3}, src)
    load_tool('convert_weights').main(['--format', 'timm', str(src), str(out)])
    ck = load_checkpoint_file(out)
    assert ck['meta']['model'] == 'EfficientNetLite0' and 'classifier.weight' in ck['meta']['dropped']
    b = EfficientNetLite0(pretrained=str(out))
    assert list(ck['state_dict']) == list(b.state_dict())
    own = b.state_dict()
    for k, v in sd.items():
        if 'body.' + k in own:
            assert torch.equal(own['body.' + k], v), k


def deeplab_layout(tv_sd: dict, prefix: str, old: bool) -> dict:
    """torchvision keys -> kazuto1011/deeplab-pytorch keys (independent inverse of the documented mapping).
    ``old``: the older layout (``scale.`` files): ``proj`` shortcut, ``aspp.stages.*``, no num_batches_tracked;
    new files (``deeplabv1_resnet101-coco.pth``: no prefix) carry num_batches_tracked and an ``fc`` classifier."""
    branch = {'conv1': 'reduce.conv', 'bn1': 'reduce.bn', 'conv2': 'conv3x3.conv', 'bn2': 'conv3x3.bn',
              'conv3': 'increase.conv', 'bn3': 'increase.bn', 'downsample.0': ('proj' if old else 'shortcut') + '.conv',
              'downsample.1': ('proj' if old else 'shortcut') + '.bn'}
    out = {}
    for k, v in tv_sd.items():
        if k.startswith('fc.'):
            continue
        if k.startswith(('conv1.', 'bn1.')):
            name = ('layer1.conv1.conv.' if k.startswith('conv1.') else 'layer1.conv1.bn.') + k.split('.', 1)[1]
        else:
            m = re.match(r'layer(\d)\.(\d+)\.(conv\d|bn\d|downsample\.\d)\.(\w+)$', k)
            name = f'layer{int(m[1]) + 1}.block{int(m[2]) + 1}.{branch[m[3]]}.{m[4]}'
        out[prefix + name] = v
        if not old and name.endswith('bn.running_var'):
            out[prefix + name.replace('running_var', 'num_batches_tracked')] = torch.tensor(0)
    if old:
        out.update({f'{prefix}aspp.stages.c{i}.weight': torch.zeros(21, 2048, 3, 3) for i in range(4)})
    elif prefix:
        out.update({f'{prefix}aspp.c{i}.bias': torch.zeros(21) for i in range(4)})
    else:
        out.update({'fc.weight': torch.zeros(91, 2048, 1, 1), 'fc.bias': torch.zeros(91)})
    return out


def test_deeplab_coco_all_key_layouts_convert_to_caffe_style(tmp_path, tv50_sd, r50_caffe, r50_pytorch):
    outs = {}
    for name, prefix, old in (('coco', '', False), ('msc', 'base.', False), ('old', 'scale.', True)):
        src = tmp_path / f'{name}.pth'
        torch.save(deeplab_layout(tv50_sd, prefix, old), src)
        outs[name] = tmp_path / f'{name}_converted.pth'
        load_tool('convert_weights').main(['--format', 'deeplab-coco', str(src), str(outs[name])])
    cks = {n: load_checkpoint_file(p) for n, p in outs.items()}
    for n, ck in cks.items():
        assert ck['meta']['style'] == 'caffe' and ck['meta']['depth'] == 50, n
        assert list(ck['state_dict']) == list(r50_caffe.state_dict()), n
        for k, v in cks['coco']['state_dict'].items():
            assert torch.equal(ck['state_dict'][k], v), (n, k)
    assert cks['old']['meta']['dropped'] == [f'scale.aspp.stages.c{i}.weight' for i in range(4)]
    assert cks['coco']['meta']['dropped'] == ['fc.weight', 'fc.bias']
    r50_caffe.load_pretrained(str(outs['old']))
    _assert_backbone_equals(r50_caffe, tv50_sd)
    # the style check: caffe weights (converted or raw deeplab-pytorch keys) into style='pytorch' are refused
    for path in (outs['coco'], tmp_path / 'msc.pth'):
        with pytest.raises(ValueError, match=re.escape(str(path)) + r" holds Caffe-converted .* built with "
                                             r"style='pytorch': set model.backbone.style='caffe'"):
            r50_pytorch.load_pretrained(str(path))
    with pytest.raises(ValueError, match=r"set model.backbone.style='caffe'"):
        TorchvisionResNet(depth=50, style='pytorch', pretrained=str(outs['old']))
    # and a converted torchvision file into style='caffe'
    tv = tmp_path / 'tv.pth'
    torch.save(tv50_sd, tmp_path / 'tv_src.pth')
    load_tool('convert_weights').main(['--format', 'torchvision', str(tmp_path / 'tv_src.pth'), str(tv)])
    with pytest.raises(ValueError, match=r"torchvision-style ResNet weights .* set model.backbone.style='pytorch'"):
        r50_caffe.load_pretrained(str(tv))
    # the wrong format names the right one
    with pytest.raises(ValueError, match='use --format deeplab-coco'):
        convert_file('torchvision', tmp_path / 'coco.pth')
    with pytest.raises(ValueError, match='for torchvision names use --format torchvision'):
        convert_file('deeplab-coco', tmp_path / 'tv_src.pth')


# ------------------------------------------------------------------------------ InSPyReNet
def test_cli_inspyrenet_latest_pth_to_our_checkpoint(tmp_path):
    from test_inspyrenet import official_state_dict
    from wsss.models.saliency import inspyrenet_res2net50, load_inspyrenet_checkpoint
    sd = official_state_dict('res2net50')
    src, out = tmp_path / 'latest.pth', tmp_path / 'inspyrenet_res2net50.pth'
    torch.save(sd, src)
    tool = load_tool('convert_weights')
    tool.main(['--format', 'inspyrenet', str(src), str(out), '--base-size', '384'])
    ck = load_checkpoint_file(out)
    assert ck['meta'] == {'source': str(src), 'format': 'inspyrenet', 'model': 'InSPyReNet', 'style': None,
                          'backbone': 'Res2Net-50', 'base_size': [384, 384], 'depth': 64}
    assert list(ck['state_dict']) == list(sd)
    model = inspyrenet_res2net50(base_size=(384, 384))
    assert load_inspyrenet_checkpoint(model, out)['base_size'] == [384, 384]
    own = model.state_dict()
    assert all(torch.equal(own[k], v) for k, v in sd.items())
    model.base_size = (352, 352)
    with pytest.raises(ValueError, match=r'trained with base_size \[384, 384\] but base_size \[352, 352\]'):
        load_inspyrenet_checkpoint(model, out)
    # not an InSPyReNet file; --base-size with another format
    torch.save({'conv1.weight': torch.zeros(1)}, tmp_path / 'backbone_only.pth')
    with pytest.raises(ValueError, match='is not an InSPyReNet checkpoint'):
        convert_file('inspyrenet', tmp_path / 'backbone_only.pth')
    with pytest.raises(ValueError, match='--base-size applies to --format inspyrenet only'):
        tool.main(['--format', 'torchvision', str(src), str(tmp_path / 'y.pth'), '--base-size', '384'])
