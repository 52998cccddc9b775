"""Helpers shared by the torchvision ResNet and EfficientNet-Lite0 backbones.

* :class:`InputRenorm` -- batches are RGB, ImageNet mean/std normalised (docs/ARCHITECTURE.md); pretrained weights
  may expect another input (Caffe BGR 0-255 minus mean, TF-Lite ``(x - 0.5) / 0.5``). The backbone converts
  its input with one fixed per-channel affine map (and an RGB->BGR flip if asked), so configs never change the
  data pipeline to fit a backbone.
* :func:`set_requires_grad`, :func:`bn_modules` and :func:`train_with_frozen` implement ``frozen_stages`` and
  ``norm_eval`` (frozen BatchNorm: eval mode, i.e. running statistics, and no gradient for the affine
  parameters).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import nn

from wsss.utils.imaging import IMAGENET_MEAN, IMAGENET_STD


class InputRenorm(nn.Module):
    """Map an input normalised with ``(in_mean, in_std)`` to ``((x01 * scale) - out_mean) / out_std``.

    ``x01 = x * in_std + in_mean`` is the RGB image in [0, 1]. Means/stds are per RGB channel. With
    ``bgr=True`` the channels are reversed after the map (out_mean/out_std are still given in RGB order).
    The map is the identity (and skipped) when nothing changes.
    """

    def __init__(self, in_mean: Sequence[float] = IMAGENET_MEAN, in_std: Sequence[float] = IMAGENET_STD,
                 out_mean: Sequence[float] = IMAGENET_MEAN, out_std: Sequence[float] = IMAGENET_STD,
                 scale: float = 1.0, bgr: bool = False):
        super().__init__()
        # constants on the CPU even under a meta default device (key layouts are built on 'meta')
        f64 = dict(dtype=torch.float64, device='cpu')
        in_mean, in_std = torch.tensor(in_mean, **f64), torch.tensor(in_std, **f64)
        out_mean, out_std = torch.tensor(out_mean, **f64), torch.tensor(out_std, **f64)
        a = in_std * scale / out_std
        b = (in_mean * scale - out_mean) / out_std
        self.bgr = bool(bgr)
        self.identity = (not self.bgr) and torch.allclose(a, torch.ones(3, **f64)) and \
            torch.allclose(b, torch.zeros(3, **f64))
        self.register_buffer('a', a.float().view(1, 3, 1, 1), persistent=False)
        self.register_buffer('b', b.float().view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.identity:
            return x
        x = x * self.a.to(x.dtype) + self.b.to(x.dtype)
        return x.flip(1) if self.bgr else x

    def extra_repr(self) -> str:
        if self.identity:
            return 'identity'
        return f'a={self.a.flatten().tolist()}, b={self.b.flatten().tolist()}, bgr={self.bgr}'


def bn_modules(module: nn.Module) -> Iterable[nn.modules.batchnorm._BatchNorm]:
    return (m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))


def set_requires_grad(modules: Iterable[nn.Module], flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


def freeze_norm_affine(module: nn.Module) -> None:
    """No gradient for every BatchNorm weight/bias under ``module`` (part of ``norm_eval``)."""
    for bn in bn_modules(module):
        for p in bn.parameters(recurse=False):
            p.requires_grad_(False)


def train_with_frozen(module: nn.Module, mode: bool, frozen: Sequence[nn.Module], norm_eval: bool) -> None:
    """After ``nn.Module.train(mode)``: keep ``frozen`` modules and (``norm_eval``) every BN in eval mode."""
    if not mode:
        return
    for m in frozen:
        m.eval()
    if norm_eval:
        for bn in bn_modules(module):
            bn.eval()


def apply_freezing(backbone: nn.Module, frozen: Sequence[nn.Module], norm_eval: bool) -> None:
    """End of a backbone's ``__init__``: no grad for the frozen stages, frozen BN affine when ``norm_eval``,
    then ``train()`` (whose override keeps frozen stages and BN in eval mode)."""
    set_requires_grad(frozen, False)
    if norm_eval:
        freeze_norm_affine(backbone)
    backbone.train()


def fill_num_batches_tracked(state_dict: dict, own: dict) -> dict:
    """Old checkpoints (torchvision < 0.4 files, Caffe conversions) lack ``num_batches_tracked``: copy ours."""
    out = dict(state_dict)
    for k, v in own.items():
        if k.endswith('num_batches_tracked') and k not in out:
            out[k] = v.clone()
    return out
