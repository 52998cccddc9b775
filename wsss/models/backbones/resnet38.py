"""Wide ResNet-38 ("model A1" of Wu et al., *Wider or Deeper*, arXiv 1611.10080) as used by PSA and EPS.

Layout (output stride 8, pre-activation blocks, all convs bias-free, BN eps 1e-5)::

    conv1a  3->64, 3x3                                  stride 1
    b2, b2_1, b2_2        ResBlock  64->128            stride 2 (b2)
    b3, b3_1, b3_2        ResBlock 128->256            stride 2 (b3)
    b4, b4_1 .. b4_5      ResBlock 256->512            stride 2 (b4)          -> OS 8
    b5, b5_1, b5_2        ResBlock 512->(mid 512)->1024, dilation 2 (b5's first conv: dilation 1)
    b6                    bottleneck 1024->2048, dilation 4, Dropout2d(0.3)
    b7                    bottleneck 2048->4096, dilation 4, Dropout2d(0.5)
    bn7 + ReLU            4096

``state_dict`` keys are exactly the official ones (``conv1a.weight``, ``b4_3.bn_branch2a.running_mean``,
``b7.conv_branch2b2.weight``, ``bn7.weight`` ...; every key in ``tests/data/keys/eps_resnet38.txt``).

Training behaviour as the official code: ``train()`` keeps every BatchNorm in eval mode with weight and bias
frozen (``norm_eval=True``), and ``conv1a, b2, b2_1, b2_2`` are frozen (``frozen_stages=1``; ``0`` freezes only
``conv1a`` as PSA does, ``-1`` nothing). The Dropout2d layers of b6/b7 stay active in training.

``forward(x)`` returns ``[conv3, conv4, conv5, conv6]``: the bn-relu inputs of b4 (256 ch, OS 4), b5
(512 ch, OS 8) and b6 (1024 ch, OS 8), and ``relu(bn7(b7))`` (4096 ch, OS 8). ``conv4..conv6`` are PSA's
``forward_as_dict`` outputs.

Pretrained weights (``pretrained=path``): a local ``.pth``/``.safetensors`` holding the converted ImageNet
weights (official names, e.g. written by ``tools/convert_weights.py --format resnet38-mxnet`` from the MXNet
``.params`` file, renamed by :func:`convert_mxnet_keys`), a raw MXNet-named dict in a torch file (converted on the
fly), or a full EPS/PSA checkpoint (``fc8.*`` and other non-backbone keys are ignored). Only
``num_batches_tracked`` buffers may be missing; anything else missing is an error. Nothing is downloaded.
"""
from __future__ import annotations

import re
from typing import Mapping, Optional

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.pretrained import weights_source
from wsss.registry import BACKBONES


class ResBlock(nn.Module):
    """Pre-activation basic block: ``bn_branch2a -> relu`` feeds the 3x3 ``conv_branch2a`` (and the 1x1
    ``conv_branch1`` shortcut when the shape changes), then ``bn_branch2b1 -> relu -> conv_branch2b1``."""

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, stride: int = 1,
                 first_dilation: Optional[int] = None, dilation: int = 1):
        super().__init__()
        self.same_shape = in_channels == out_channels and stride == 1
        first_dilation = dilation if first_dilation is None else first_dilation
        self.bn_branch2a = nn.BatchNorm2d(in_channels)
        self.conv_branch2a = nn.Conv2d(in_channels, mid_channels, 3, stride, padding=first_dilation,
                                       dilation=first_dilation, bias=False)
        self.bn_branch2b1 = nn.BatchNorm2d(mid_channels)
        self.conv_branch2b1 = nn.Conv2d(mid_channels, out_channels, 3, padding=dilation, dilation=dilation,
                                        bias=False)
        if not self.same_shape:
            self.conv_branch1 = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: torch.Tensor, return_bn_relu: bool = False):
        pre = F.relu(self.bn_branch2a(x))
        shortcut = x if self.same_shape else self.conv_branch1(pre)
        y = self.conv_branch2b1(F.relu(self.bn_branch2b1(self.conv_branch2a(pre))))
        out = shortcut + y
        return (out, pre) if return_bn_relu else out


class ResBlockBottleneck(nn.Module):
    """Pre-activation bottleneck (official ``ResBlock_bot``): 1x1 (out/4) -> 3x3 dilated (out/2) -> 1x1 (out),
    Dropout2d after the 2nd and 3rd bn-relu; the 1x1 ``conv_branch1`` shortcut is always present."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        self.bn_branch2a = nn.BatchNorm2d(in_channels)
        self.conv_branch2a = nn.Conv2d(in_channels, out_channels // 4, 1, stride, bias=False)
        self.bn_branch2b1 = nn.BatchNorm2d(out_channels // 4)
        self.dropout_2b1 = nn.Dropout2d(dropout)
        self.conv_branch2b1 = nn.Conv2d(out_channels // 4, out_channels // 2, 3, padding=dilation,
                                        dilation=dilation, bias=False)
        self.bn_branch2b2 = nn.BatchNorm2d(out_channels // 2)
        self.dropout_2b2 = nn.Dropout2d(dropout)
        self.conv_branch2b2 = nn.Conv2d(out_channels // 2, out_channels, 1, bias=False)
        self.conv_branch1 = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

    def forward(self, x: torch.Tensor, return_bn_relu: bool = False):
        pre = F.relu(self.bn_branch2a(x))
        shortcut = self.conv_branch1(pre)
        y = self.conv_branch2a(pre)
        y = self.conv_branch2b1(self.dropout_2b1(F.relu(self.bn_branch2b1(y))))
        y = self.conv_branch2b2(self.dropout_2b2(F.relu(self.bn_branch2b2(y))))
        out = shortcut + y
        return (out, pre) if return_bn_relu else out


# (name, constructor kwargs) in registration order == official state_dict order
_BLOCKS = (
    [('b2', dict(in_channels=64, mid_channels=128, out_channels=128, stride=2)),
     ('b2_1', dict(in_channels=128, mid_channels=128, out_channels=128)),
     ('b2_2', dict(in_channels=128, mid_channels=128, out_channels=128)),
     ('b3', dict(in_channels=128, mid_channels=256, out_channels=256, stride=2)),
     ('b3_1', dict(in_channels=256, mid_channels=256, out_channels=256)),
     ('b3_2', dict(in_channels=256, mid_channels=256, out_channels=256)),
     ('b4', dict(in_channels=256, mid_channels=512, out_channels=512, stride=2))]
    + [(f'b4_{i}', dict(in_channels=512, mid_channels=512, out_channels=512)) for i in range(1, 6)]
    + [('b5', dict(in_channels=512, mid_channels=512, out_channels=1024, first_dilation=1, dilation=2)),
       ('b5_1', dict(in_channels=1024, mid_channels=512, out_channels=1024, dilation=2)),
       ('b5_2', dict(in_channels=1024, mid_channels=512, out_channels=1024, dilation=2))])

# frozen_stages -> modules frozen (official EPS: conv1a + the b2 group; PSA: conv1a only)
_FROZEN = {-1: (), 0: ('conv1a',), 1: ('conv1a', 'b2', 'b2_1', 'b2_2')}


@BACKBONES.register_module()
class ResNet38(nn.Module):
    """Wide ResNet-38 backbone of PSA / EPS with the official parameter names (see the module docstring).

    Args:
        frozen_stages: ``1`` (official EPS) freezes ``conv1a, b2, b2_1, b2_2``; ``0`` only ``conv1a`` (PSA);
            ``-1`` nothing.
        norm_eval: keep every BatchNorm in eval mode with frozen affine parameters (official).
        dropout: Dropout2d probabilities of b6 and b7 (official ``(0.3, 0.5)``).
        pretrained: local weight file (see the module docstring), ``'none'`` (random init on purpose) or None
            (random init; refused by the training stages: :mod:`wsss.models.pretrained`).
    """

    #: the CAM classifier exposes this backbone's keys at the root of its state_dict (official layout)
    keys_at_root = True

    def __init__(self, frozen_stages: int = 1, norm_eval: bool = True, dropout=(0.3, 0.5),
                 pretrained: Optional[str] = None):
        super().__init__()
        if frozen_stages not in _FROZEN:
            raise ValueError(f'frozen_stages must be one of {sorted(_FROZEN)}, got {frozen_stages}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.conv1a = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        for name, kw in _BLOCKS:
            self.add_module(name, ResBlock(**kw))
        self.b6 = ResBlockBottleneck(1024, 2048, dilation=4, dropout=dropout[0])
        self.b7 = ResBlockBottleneck(2048, 4096, dilation=4, dropout=dropout[1])
        self.bn7 = nn.BatchNorm2d(4096)
        self.out_channels = [256, 512, 1024, 4096]
        self.output_stride = 8
        if weights_source(pretrained) is not None:
            self.load_pretrained(pretrained)
        self._freeze()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.conv1a(x)
        for name in ('b2', 'b2_1', 'b2_2', 'b3', 'b3_1', 'b3_2'):
            x = getattr(self, name)(x)
        x, conv3 = self.b4(x, return_bn_relu=True)
        for i in range(1, 6):
            x = getattr(self, f'b4_{i}')(x)
        x, conv4 = self.b5(x, return_bn_relu=True)
        x = self.b5_2(self.b5_1(x))
        x, conv5 = self.b6(x, return_bn_relu=True)
        conv6 = F.relu(self.bn7(self.b7(x)))
        return [conv3, conv4, conv5, conv6]

    def _freeze(self) -> None:
        for name in _FROZEN[self.frozen_stages]:
            for p in getattr(self, name).parameters():
                p.requires_grad_(False)
        if self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    for p in m.parameters():
                        p.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def load_pretrained(self, path: str) -> None:
        from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, \
            strip_prefix
        sd = strip_prefix(extract_state_dict(load_checkpoint_file(path), path), 'module.')
        if any(_is_mxnet_key(k) for k in sd):
            sd = convert_mxnet_keys(sd)
        own = self.state_dict()
        sd = {k: v for k, v in sd.items() if k in own}
        missing = [k for k in own if k not in sd and not k.endswith('num_batches_tracked')]
        if missing:
            raise RuntimeError(f'{path}: not ResNet-38 weights, {len(missing)} backbone keys missing '
                               f'(e.g. {missing[:5]})')
        load_state_dict_checked(self, sd, path, strict=False)


# ---------------------------------------------------------------------------------------------------------
# MXNet -> torch key renaming (the official ``convert_mxnet_to_torch`` rule, without needing mxnet)
# ---------------------------------------------------------------------------------------------------------
_BN_SUFFIX = {'gamma': 'weight', 'beta': 'bias', 'moving_mean': 'running_mean', 'moving_var': 'running_var',
              'mean': 'running_mean', 'var': 'running_var'}
_BLOCK_RE = re.compile(r'^(?:(?:arg|aux):)?(res|bn)(\d)(a|b\d)_(branch\w+?)_(\w+)$')
_BN7_RE = re.compile(r'^(?:(?:arg|aux):)?bn7_(\w+)$')


def _is_mxnet_key(k: str) -> bool:
    return k.startswith(('arg:', 'aux:')) or bool(_BLOCK_RE.match(k)) or 'conv1a_weight' in k


def convert_mxnet_keys(params: Mapping[str, object]) -> dict[str, torch.Tensor]:
    """Rename the ImageNet "model A1" MXNet parameters to the official torch names.

    ``params`` maps MXNet names (``arg:``/``aux:`` prefixes optional) to arrays (numpy or torch). Rule:

    - ``conv1a_weight`` -> ``conv1a.weight``; ``linear1000_*`` (the ImageNet classifier) is dropped;
    - ``res{S}a_branch{X}_weight`` -> ``b{S}.conv_branch{X}.weight``; ``res{S}b{N}_...`` -> ``b{S}_{N}....``;
    - ``bn{S}{a|bN}_branch{X}_{gamma,beta,moving_mean,moving_var}`` -> ``b{S}[_N].bn_branch{X}.{weight,bias,
      running_mean,running_var}``;
    - ``bn7_{...}`` -> ``bn7.{...}``.
    Unknown names raise ``KeyError`` (the official script silently maps them to ``bn7``).
    """
    out: dict[str, torch.Tensor] = {}
    for k, v in params.items():
        t = v if isinstance(v, torch.Tensor) else torch.as_tensor(v)
        name = k.split(':', 1)[1] if k.startswith(('arg:', 'aux:')) else k
        if name.startswith('linear1000'):
            continue
        if name.startswith('conv1a'):
            out['conv1a.weight'] = t
            continue
        m = _BLOCK_RE.match(name)
        if m:
            kind, stage, sub, branch, suffix = m.groups()
            block = f'b{stage}' if sub == 'a' else f'b{stage}_{sub[1:]}'
            last = 'weight' if kind == 'res' else _BN_SUFFIX[suffix]
            out[f'{block}.{"conv" if kind == "res" else "bn"}_{branch}.{last}'] = t
            continue
        m = _BN7_RE.match(name)
        if m and m.group(1) in _BN_SUFFIX:
            out[f'bn7.{_BN_SUFFIX[m.group(1)]}'] = t
            continue
        raise KeyError(f'unknown MXNet ResNet-38 parameter name: {k!r}')
    return out
