"""Dilated ResNet-50/101/152 built from torchvision, returning the four stage outputs.

``TorchvisionResNet(depth=101, output_stride=8)`` -> ``forward(x)`` returns ``[layer1, layer2, layer3, layer4]``
(channels ``[256, 512, 1024, 2048]``, strides ``4, 8, 8, 8`` at OS 8; ``4, 8, 16, 16`` at OS 16; ``4, 8, 16, 32``
at OS 32). Dilation replaces the stride of the last stages (torchvision ``replace_stride_with_dilation``).

Styles
------
``style='pytorch'`` (default): torchvision ResNet v1.5 exactly (stride in the 3x3 conv, max-pool without
ceil mode; in a dilated layer the first block keeps the previous dilation, as torchvision does). Expects the
project's ImageNet mean/std RGB input unchanged.

``style='caffe'``: the MSRA/DeepLab-v2 ResNet of kazuto1011/deeplab-pytorch and the DeepLab Caffe models:
stride in the first 1x1 conv of a block, max-pool with ``ceil_mode=True``, every block of a dilated layer uses
the full dilation (2 in layer3, 4 in layer4 at OS 8), and the input is converted inside the backbone from the
project's normalised RGB to what the Caffe weights expect: BGR, 0-255, minus the mean (B, G, R) =
(104.008, 116.669, 122.675). Use it with DeepLab's Caffe-converted inits (``deeplabv1_resnet101-coco.pth``).

Pretrained weights (``pretrained=<local path>``, never downloaded; ``.pth``/``.safetensors``, raw or wrapped
under ``state_dict``/``model``; ``module.`` prefix stripped). The layout is detected from the keys:

* torchvision ImageNet files (``resnet101-63fe2227.pth``, ``resnet101-cd907fc2.pth``, ...): keys are used as
  they are (``conv1.weight``, ``bn1.*``, ``layer{1-4}.{i}.conv{1-3}.weight``, ``.bn{1-3}.*``,
  ``.downsample.{0,1}.*``); ``fc.*`` is dropped. This backbone's own ``state_dict`` has exactly these keys.
* kazuto1011/deeplab-pytorch layout (Caffe conversions: ``deeplabv1_resnet101-coco.pth`` has no prefix, the MSC
  wrapper's files ``base.``, older versions' ``scale.`` -- the MSC wrapper's attribute name before it became
  ``base`` -- with ``proj`` for ``shortcut`` and ``aspp.stages.*``), converted by
  :func:`convert_deeplab_resnet_keys`::

      layer1.conv1.conv.weight                      -> conv1.weight
      layer1.conv1.bn.{weight,bias,running_*}       -> bn1.*
      layer{N}.block{K}.reduce.{conv,bn}.*          -> layer{N-1}.{K-1}.{conv1,bn1}.*      (N = 2..5)
      layer{N}.block{K}.conv3x3.{conv,bn}.*         -> layer{N-1}.{K-1}.{conv2,bn2}.*
      layer{N}.block{K}.increase.{conv,bn}.*        -> layer{N-1}.{K-1}.{conv3,bn3}.*
      layer{N}.block{K}.{shortcut,proj}.{conv,bn}.* -> layer{N-1}.{K-1}.downsample.{0,1}.*
      aspp.*, fc.*                                  -> dropped (classifier of the source task)

* a checkpoint of a whole segmenter: the ``backbone.*`` keys are taken.
* a file written by ``tools/convert_weights.py`` (``{'state_dict', 'meta': {'style', ...}}``, our keys).

Missing ``num_batches_tracked`` buffers are filled in; any other missing, unexpected or mis-shaped key is an
error naming the file.

Style check (:func:`source_style`): weights made for one style are refused by the other, with the setting to
change. The source style is ``meta['style']`` of a converted file when it records one, else ``'caffe'`` for the
deeplab-pytorch key layout (every deeplab-pytorch file is a Caffe conversion), else unknown (torchvision-named
files without meta: torchvision's, timm's, or a segmenter's ``backbone.*``) and accepted by both styles.

Options: ``frozen_stages`` (-1: none, 0: stem, k: stem and layer1..k: eval mode and no gradient),
``norm_eval`` (every BatchNorm in eval mode with weight/bias frozen, as DeepLab-v2 trains).
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

import torch
import torchvision
from torch import nn

from wsss.models.backbones.backbone_utils import (IMAGENET_MEAN, IMAGENET_STD, InputRenorm, apply_freezing,
                                                  fill_num_batches_tracked, train_with_frozen)
from wsss.models.pretrained import weights_source
from wsss.registry import BACKBONES
from wsss.utils.checkpoint import (checkpoint_meta, extract_state_dict, load_checkpoint_file, load_state_dict_checked,
                                   strip_prefix)

CAFFE_MEAN_RGB = (122.675, 116.669, 104.008)  # DeepLab's BGR mean (104.008, 116.669, 122.675), in RGB order
_DILATIONS = {8: (False, True, True), 16: (False, False, True), 32: (False, False, False)}
_BRANCH = {'reduce': ('conv1', 'bn1'), 'conv3x3': ('conv2', 'bn2'), 'increase': ('conv3', 'bn3'),
           'shortcut': ('downsample.0', 'downsample.1'), 'proj': ('downsample.0', 'downsample.1')}
_DEEPLAB_BLOCK = re.compile(r'^layer([2-5])\.block(\d+)\.(reduce|conv3x3|increase|shortcut|proj)\.(conv|bn)\.(\w+)$')


#: prefixes of deeplab-pytorch's MSC wrapper: ``base`` (current), ``scale`` (older versions)
_MSC_PREFIXES = ('base.', 'scale.')


def _strip_msc(key: str) -> str:
    for p in _MSC_PREFIXES:
        if key.startswith(p):
            return key[len(p):]
    return key


def convert_deeplab_resnet_keys(state_dict: dict) -> tuple[dict, list[str]]:
    """kazuto1011/deeplab-pytorch (Caffe-converted) ResNet keys -> torchvision keys (see the module docstring).

    Returns ``(converted, dropped_keys)``; ``dropped_keys`` are those that are no backbone tensor (ASPP, fc).
    """
    out, dropped = {}, []
    for key, v in state_dict.items():
        k = _strip_msc(key)
        if k.startswith('layer1.conv1.conv.'):
            out['conv1.' + k[len('layer1.conv1.conv.'):]] = v
        elif k.startswith('layer1.conv1.bn.'):
            out['bn1.' + k[len('layer1.conv1.bn.'):]] = v
        elif (m := _DEEPLAB_BLOCK.match(k)) is not None:
            layer, block, branch, kind, param = m.groups()
            conv, bn = _BRANCH[branch]
            out[f'layer{int(layer) - 1}.{int(block) - 1}.{conv if kind == "conv" else bn}.{param}'] = v
        else:
            dropped.append(key)
    return out, dropped


def is_deeplab_layout(state_dict: dict) -> bool:
    """Keys of kazuto1011/deeplab-pytorch's ResNet (any MSC prefix; module docstring)."""
    return any(k.endswith('layer1.conv1.conv.weight') for k in state_dict) or \
        any(_DEEPLAB_BLOCK.match(_strip_msc(k)) for k in state_dict)


def source_style(state_dict: dict, meta: Optional[dict] = None) -> Optional[str]:
    """The style the weights were made for: ``meta['style']`` when it is ``'pytorch'``/``'caffe'``, else
    ``'caffe'`` for the deeplab-pytorch layout, else ``None`` (unknown)."""
    style = (meta or {}).get('style')
    if style in ('pytorch', 'caffe'):
        return style
    return 'caffe' if is_deeplab_layout(state_dict) else None


def check_style(path, want: str, have: Optional[str]) -> None:
    """Refuse weights made for the other style (module docstring), naming the setting to change."""
    if have is None or have == want:
        return
    what = ('Caffe-converted MSRA/DeepLab ResNet weights (BGR 0-255 mean-subtracted input, stride in the 1x1 '
            'conv)' if have == 'caffe' else 'torchvision-style ResNet weights (RGB ImageNet mean/std input, '
            'stride in the 3x3 conv)')
    raise ValueError(f"{path} holds {what}, but the backbone is built with style={want!r}: set "
                     f"model.backbone.style='{have}' (e.g. --cfg-options model.backbone.style={have})")


@BACKBONES.register_module()
class TorchvisionResNet(nn.Module):
    """Dilated torchvision ResNet; see the module docstring for styles, pretrained layouts and options.

    Args:
        depth: 50, 101 or 152 (bottleneck ResNets; torchvision cannot dilate basic blocks).
        output_stride: 8, 16 or 32.
        style: ``'pytorch'`` or ``'caffe'``.
        frozen_stages: -1 none, 0 stem, k stem + layer1..k.
        norm_eval: freeze every BatchNorm (eval mode, no grad for weight/bias).
        pretrained: local checkpoint path, ``'none'`` (random init on purpose) or None (random init, torchvision's;
            refused by the training stages: :mod:`wsss.models.pretrained`).
        input_mean, input_std: the normalisation of the incoming batches (the project's ImageNet values).
    """

    def __init__(self, depth: int = 101, output_stride: int = 8, style: str = 'pytorch', frozen_stages: int = -1,
                 norm_eval: bool = False, pretrained: Optional[str] = None,
                 input_mean: Sequence[float] = IMAGENET_MEAN, input_std: Sequence[float] = IMAGENET_STD):
        super().__init__()
        if depth not in (50, 101, 152):
            raise ValueError(f'depth must be 50, 101 or 152, got {depth}')
        if output_stride not in _DILATIONS:
            raise ValueError(f'output_stride must be 8, 16 or 32, got {output_stride}')
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"style must be 'pytorch' or 'caffe', got {style!r}")
        if not -1 <= frozen_stages <= 4:
            raise ValueError(f'frozen_stages must be in -1..4, got {frozen_stages}')
        self.depth, self.style, self.output_stride = depth, style, output_stride
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        net = getattr(torchvision.models, f'resnet{depth}')(
            weights=None, replace_stride_with_dilation=list(_DILATIONS[output_stride]))
        if style == 'caffe':
            self.input_renorm = InputRenorm(input_mean, input_std, CAFFE_MEAN_RGB, (1.0, 1.0, 1.0), scale=255.0,
                                            bgr=True)
            net.maxpool.ceil_mode = True
            for layer in (net.layer2, net.layer3, net.layer4):
                first = layer[0]
                if first.conv2.stride != (1, 1):  # MSRA: stride in the first 1x1 conv
                    first.conv1.stride, first.conv2.stride = first.conv2.stride, (1, 1)
                d = layer[-1].conv2.dilation  # the layer's full dilation, in every block
                for block in layer:
                    block.conv2.dilation, block.conv2.padding = d, d
        else:
            self.input_renorm = InputRenorm(input_mean, input_std, IMAGENET_MEAN, IMAGENET_STD)
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        self.out_channels = [256, 512, 1024, 2048]
        self.strides = [4, 8] + [min(s, output_stride) for s in (16, 32)]

        if weights_source(pretrained):
            self.load_pretrained(pretrained)
        apply_freezing(self, self._frozen_modules(), norm_eval)

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 0:
            return []
        return [self.conv1, self.bn1] + [getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)]

    def train(self, mode: bool = True):
        super().train(mode)
        train_with_frozen(self, mode, self._frozen_modules(), self.norm_eval)
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(self.input_renorm(x)))))
        outs = []
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            outs.append(x)
        return outs

    def load_pretrained(self, path: str) -> None:
        """Load a local checkpoint (torchvision, deeplab-pytorch or segmenter layout; module docstring)."""
        obj = load_checkpoint_file(path)
        sd = strip_prefix(extract_state_dict(obj, path), 'module.')
        if any(k.startswith('backbone.') for k in sd):
            sd = {k[len('backbone.'):]: v for k, v in sd.items() if k.startswith('backbone.')}
        check_style(path, self.style, source_style(sd, checkpoint_meta(obj)))
        if is_deeplab_layout(sd):
            sd, _ = convert_deeplab_resnet_keys(sd)
        else:
            sd = {k: v for k, v in sd.items() if not k.startswith('fc.')}
        sd = fill_num_batches_tracked(sd, self.state_dict())
        load_state_dict_checked(self, sd, path, strict=True)

    def extra_repr(self) -> str:
        return (f'depth={self.depth}, output_stride={self.output_stride}, style={self.style!r}, '
                f'frozen_stages={self.frozen_stages}, norm_eval={self.norm_eval}')
