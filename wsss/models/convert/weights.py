"""Weight import: released weight files -> our layouts, written once and then given as ``model.backbone.pretrained``
(or as an InSPyReNet checkpoint). ``tools/convert_weights.py`` is the command line of :func:`convert_weights`.

What is written (:func:`wsss.utils.checkpoint.save_checkpoint_file`, atomically, format by suffix):

* ``.pth`` (any suffix but ``.safetensors``): ``{'state_dict': ..., 'meta': ...}``, the layout of our own
  checkpoints. Every loader reads it: ``ResNet38`` / ``TorchvisionResNet`` / ``EfficientNetLite0``
  ``pretrained=`` (``extract_state_dict`` takes ``state_dict``) and ``load_inspyrenet_checkpoint`` (reads ``meta``).
* ``.safetensors``: the tensors, with ``meta`` as JSON in the header (``load_checkpoint_file`` gives the same
  ``{'state_dict', 'meta'}`` back).

``state_dict`` has exactly the keys, shapes and order of our module's own ``state_dict`` (checked with
``strict=True`` against the module built on the meta device, so nothing big is allocated); floating tensors are
cast to the module's dtype (float32); ``num_batches_tracked`` buffers, which no ImageNet/Caffe/MXNet file has,
are filled with 0 (torch's initial value). ``meta`` = ``{'source': IN, 'format': FORMAT, 'style': 'pytorch' |
'caffe' | None, 'model': our class, ...}`` plus ``depth`` (ResNets), ``dropped`` (keys of the source task's
classifier that were left out), and ``backbone`` / ``base_size`` / ``depth`` for InSPyReNet (its
``checkpoint_meta`` fields; ``base_size`` None unless given).

Formats (:data:`FORMATS`, one converter each):

``resnet38-mxnet``
    The MXNet ``.params`` of the ImageNet "model A1" ResNet-38 (``ilsvrc-cls_rna-a1_cls1000_ep-0001.params``,
    PSA/EPS), read by :func:`wsss.models.convert.mxnet_params.read_mxnet_params`, renamed by
    :func:`wsss.models.backbones.resnet38.convert_mxnet_keys` (the official ``convert_mxnet_to_torch`` rule;
    ``linear1000_*`` dropped) -> ``ResNet38`` keys.
``torchvision``
    A torchvision ImageNet ResNet-50/101/152 (``resnet101-63fe2227.pth`` ...): keys kept, ``fc.*`` dropped ->
    ``TorchvisionResNet`` (``style='pytorch'``; depth from the number of ``layer3`` blocks: 6/23/36).
``timm``
    A timm ImageNet checkpoint (``.pth``, ``.pth.tar`` with ``state_dict``, ``.safetensors``): ``resnet50`` /
    ``resnet101`` / ``resnet152`` (timm's ResNet names are torchvision's) -> ``TorchvisionResNet`` as above;
    ``tf_efficientnet_lite0`` (or the EfficientNet-PyTorch layout of the packaged Lite0 file) ->
    ``EfficientNetLite0`` (``body.`` + timm feature keys; the classifier head is dropped). Deep-stem variants
    (``resnet50d``, ``conv1.0.weight``) do not fit ``TorchvisionResNet`` and are refused.
``deeplab-coco``
    kazuto1011/deeplab-pytorch Caffe conversions, e.g. ``deeplabv1_resnet101-coco.pth`` (no prefix) or files of
    the MSC wrapper (``base.`` / older ``scale.`` prefix): renamed by
    :func:`wsss.models.backbones.torchvision_resnet.convert_deeplab_resnet_keys`, ASPP / fc dropped ->
    ``TorchvisionResNet`` with ``meta.style = 'caffe'`` (such a file loads only into ``style='caffe'``).
``inspyrenet``
    The official InSPyReNet ``latest.pth`` (plemeri/InSPyReNet, Res2Net-50 or Swin-B; or transparent-background's
    ``ckpt_*.pth``), keys already ours -> our checkpoint ``{'state_dict', 'meta'}`` with ``meta.base_size`` when
    given (384 for the paper's ``latest.pth`` and ``ckpt_fast.pth``, 1024 for ``ckpt_base.pth``).
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

import torch
from torch import nn

from wsss.utils.checkpoint import (checkpoint_meta, extract_state_dict, load_checkpoint_file, load_state_dict_checked,
                                   save_checkpoint_file, strip_prefix)

FORMATS: dict[str, str] = {
    'resnet38-mxnet': 'MXNet .params of the ImageNet "model A1" ResNet-38 (ilsvrc-cls_rna-a1_cls1000_ep-0001.params, '
                      'PSA/EPS) -> ResNet38 (linear1000 dropped); for the ResNet-38 CAM configs',
    'torchvision': 'torchvision ImageNet ResNet-50/101/152 (resnet101-63fe2227.pth ...) -> TorchvisionResNet, '
                   "style 'pytorch' (fc dropped)",
    'timm': 'timm ImageNet resnet50/101/152 -> TorchvisionResNet (style pytorch), or tf_efficientnet_lite0 -> '
            'EfficientNetLite0 (head dropped); .pth, .pth.tar or .safetensors',
    'deeplab-coco': 'kazuto1011/deeplab-pytorch Caffe COCO init (deeplabv1_resnet101-coco.pth; base./scale. '
                    "prefixed files too) -> TorchvisionResNet, style 'caffe' (set model.backbone.style='caffe')",
    'inspyrenet': 'official InSPyReNet latest.pth (Res2Net-50 / Swin-B) -> our saliency checkpoint; '
                  '--base-size records the training size (384 for latest.pth)',
}


# ---------------------------------------------------------------------------------------------- shared steps
def _layout(build: Callable[[], nn.Module]) -> nn.Module:
    """Our module, built on the meta device (no memory, no draw from the global RNG); modules whose constructor
    needs real tensors (Swin's drop-path schedule) are built on the CPU under a forked RNG."""
    with torch.random.fork_rng(devices=[]):
        try:
            with torch.device('meta'):
                return build()
        except (NotImplementedError, RuntimeError):
            return build()


def _fit(model: nn.Module, sd: Mapping[str, torch.Tensor], src: str | os.PathLike, prefix: str = '') -> dict:
    """``sd`` checked against ``model.state_dict()`` (strict, error naming ``src`` and the keys), in the model's
    order, floats cast to the model's dtype, missing ``num_batches_tracked`` filled with 0."""
    own = model.state_dict()
    sd = {prefix + k: v for k, v in sd.items()}
    for k, v in own.items():
        if k.endswith('num_batches_tracked') and k not in sd:
            sd[k] = torch.zeros((), dtype=v.dtype)
    with warnings.catch_warnings():  # the copy into a meta-device module is a no-op; torch says so per key
        warnings.filterwarnings('ignore', message='.*copying from a non-meta parameter')
        load_state_dict_checked(model, sd, src, strict=True)
    return {k: sd[k].to(own[k].dtype) if sd[k].is_floating_point() and own[k].is_floating_point() else sd[k]
            for k in own}


def _resnet_depth(sd: Mapping[str, torch.Tensor], src) -> int:
    blocks = {int(m.group(1)) for k in sd if (m := re.match(r'^layer3\.(\d+)\.', k))}
    depth = {6: 50, 23: 101, 36: 152}.get(len(blocks))
    if depth is None:
        raise ValueError(f'{src}: not a ResNet-50/101/152 ({len(blocks)} layer3 blocks; expected 6, 23 or 36)')
    return depth


def _torch_state_dict(src: str | os.PathLike) -> tuple[dict, dict]:
    obj = load_checkpoint_file(src)
    return strip_prefix(extract_state_dict(obj, src), 'module.'), checkpoint_meta(obj)


# ---------------------------------------------------------------------------------------------- converters
def convert_resnet38_mxnet(params: Mapping[str, Any], src: str | os.PathLike = '<params>') -> tuple[dict, dict]:
    """MXNet-named ResNet-38 arrays (``{name: numpy array}`` of :func:`read_mxnet_params`) -> ``(state_dict,
    meta)`` in ``ResNet38`` keys (module docstring)."""
    from wsss.models.backbones.resnet38 import ResNet38, convert_mxnet_keys
    try:
        sd = convert_mxnet_keys(params)
    except KeyError as e:
        raise ValueError(f'{src}: not the MXNet ResNet-38 "model A1" ImageNet file: {e.args[0]}') from e
    return _fit(_layout(ResNet38), sd, src), {'model': 'ResNet38', 'style': None}


def convert_torchvision_resnet(sd: Mapping[str, torch.Tensor], src: str | os.PathLike = '<checkpoint>',
                               fmt: str = 'torchvision') -> tuple[dict, dict]:
    """torchvision / timm ResNet keys -> ``TorchvisionResNet`` (style pytorch); refuses other layouts with the
    format to use instead."""
    from wsss.models.backbones.torchvision_resnet import TorchvisionResNet, is_deeplab_layout
    if is_deeplab_layout(sd):
        raise ValueError(f'{src} has the deeplab-pytorch (Caffe) key layout: use --format deeplab-coco')
    if 'conv_stem.weight' in sd or '_conv_stem.weight' in sd:
        raise ValueError(f'{src} is an EfficientNet checkpoint: use --format timm')
    if 'conv1.0.weight' in sd:
        raise ValueError(f'{src} is a deep-stem ResNet (timm resnet*d / resnet*s: conv1.0.weight ...); '
                         f'TorchvisionResNet has the plain 7x7 stem (use a torchvision-layout resnet50/101)')
    body = {k: v for k, v in sd.items() if not k.startswith('fc.')}
    depth = _resnet_depth(body, src)
    model = _layout(lambda: TorchvisionResNet(depth=depth, style='pytorch'))
    dropped = [k for k in sd if k.startswith('fc.')]
    return _fit(model, body, src), {'model': 'TorchvisionResNet', 'style': 'pytorch', 'depth': depth,
                                    'dropped': dropped}


def convert_lite0(sd: Mapping[str, torch.Tensor], src: str | os.PathLike = '<checkpoint>') -> tuple[dict, dict]:
    """timm ``tf_efficientnet_lite0`` (or EfficientNet-PyTorch Lite0) keys -> ``EfficientNetLite0`` keys."""
    from wsss.models.backbones.efficientnet_lite import _HEAD_PREFIXES, EfficientNetLite0, convert_efficientnet_lite0
    sd = strip_prefix(sd, 'body.')
    if '_conv_stem.weight' in sd:
        try:
            sd = convert_efficientnet_lite0(sd)
        except ValueError as e:
            raise ValueError(f'{src}: {e}') from e
    body = {k: v for k, v in sd.items() if not k.startswith(_HEAD_PREFIXES)}
    dropped = [k for k in sd if k.startswith(_HEAD_PREFIXES)]
    return _fit(_layout(EfficientNetLite0), body, src, prefix='body.'), \
        {'model': 'EfficientNetLite0', 'style': None, 'dropped': dropped}


def convert_deeplab_coco(sd: Mapping[str, torch.Tensor], src: str | os.PathLike = '<checkpoint>') -> tuple[dict, dict]:
    """kazuto1011/deeplab-pytorch ResNet (no / ``base.`` / ``scale.`` prefix) -> ``TorchvisionResNet`` keys,
    ``style='caffe'``; only the source task's classifier (``aspp.*``, ``fc.*``) may be left over."""
    from wsss.models.backbones.torchvision_resnet import (TorchvisionResNet, _strip_msc, convert_deeplab_resnet_keys,
                                                          is_deeplab_layout)
    if not is_deeplab_layout(sd):
        raise ValueError(f'{src}: no deeplab-pytorch ResNet keys (layer1.conv1.conv.weight, '
                         f'layer2.block1.reduce.conv.weight, ...; optional base./scale. prefix); for torchvision '
                         f'names use --format torchvision')
    body, dropped = convert_deeplab_resnet_keys(dict(sd))
    unknown = [k for k in dropped if not _strip_msc(k).startswith(('aspp.', 'fc.'))]
    if unknown:
        raise ValueError(f'{src}: keys that are neither ResNet nor the ASPP/fc classifier: {unknown[:8]}')
    depth = _resnet_depth(body, src)
    model = _layout(lambda: TorchvisionResNet(depth=depth, style='caffe'))
    return _fit(model, body, src), {'model': 'TorchvisionResNet', 'style': 'caffe', 'depth': depth,
                                    'dropped': dropped}


def convert_inspyrenet(sd: Mapping[str, torch.Tensor], src: str | os.PathLike = '<checkpoint>',
                       base_size: Optional[Sequence[int]] = None) -> tuple[dict, dict]:
    """Official InSPyReNet state_dict -> our checkpoint (keys checked strict against the matching model)."""
    from wsss.models.saliency.inspyrenet import describe_backbone, inspyrenet_res2net50, inspyrenet_swinb
    if not any(k.startswith('context1.') for k in sd):
        raise ValueError(f'{src} is not an InSPyReNet checkpoint (no context1.* keys; first keys {list(sd)[:3]})')
    _, label = describe_backbone(sd)
    builders = {'Res2Net-50': inspyrenet_res2net50, 'Swin-B': inspyrenet_swinb}
    if label not in builders:
        raise ValueError(f'{src}: a {label} InSPyReNet; only {sorted(builders)} are built here')
    depth = int(sd['context1.branch0.conv.weight'].shape[0]) if 'context1.branch0.conv.weight' in sd else 64
    size = None if base_size is None else [int(base_size[0]), int(base_size[-1])]
    model = _layout(lambda: builders[label](depth=depth))
    return _fit(model, sd, src), {'model': 'InSPyReNet', 'style': None, 'backbone': label, 'base_size': size,
                                  'depth': depth}


# ---------------------------------------------------------------------------------------------- entry point
def convert_file(fmt: str, src: str | os.PathLike, base_size: Optional[Sequence[int]] = None) -> tuple[dict, dict]:
    """Read ``src`` in format ``fmt`` (:data:`FORMATS`) and convert it: ``(state_dict, meta)`` (module
    docstring)."""
    if fmt not in FORMATS:
        raise ValueError(f'unknown format {fmt!r}; choose one of {sorted(FORMATS)}')
    if base_size is not None and fmt != 'inspyrenet':
        raise ValueError('--base-size applies to --format inspyrenet only')
    if fmt == 'resnet38-mxnet':
        from wsss.models.convert.mxnet_params import read_mxnet_params
        sd, meta = convert_resnet38_mxnet(read_mxnet_params(src), src)
    else:
        raw, old_meta = _torch_state_dict(src)
        if fmt == 'inspyrenet':
            have = old_meta.get('base_size')
            if base_size is None and have:
                base_size = have
            elif have and [int(v) for v in have] != [int(base_size[0]), int(base_size[-1])]:
                raise ValueError(f'{src} records base_size {list(have)}, not {list(base_size)}')
            sd, meta = convert_inspyrenet(raw, src, base_size)
        elif fmt == 'deeplab-coco':
            sd, meta = convert_deeplab_coco(raw, src)
        elif fmt == 'timm' and ('conv_stem.weight' in raw or '_conv_stem.weight' in raw
                                or 'body.conv_stem.weight' in raw):
            sd, meta = convert_lite0(raw, src)
        else:
            sd, meta = convert_torchvision_resnet(raw, src, fmt)
    return sd, {'source': str(src), 'format': fmt, **meta}


def convert_weights(fmt: str, src: str | os.PathLike, dst: str | os.PathLike,
                    base_size: Optional[Sequence[int]] = None) -> dict:
    """Convert ``src`` (format ``fmt``) and write ``dst`` atomically (``.pth`` or ``.safetensors`` by suffix;
    module docstring). Returns the written ``meta``."""
    if Path(dst).resolve() == Path(src).resolve():
        raise ValueError(f'output {dst} would overwrite the input')
    sd, meta = convert_file(fmt, src, base_size)
    save_checkpoint_file(sd, dst, meta)
    return meta
