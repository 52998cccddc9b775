"""InSPyReNet: Inverse Saliency Pyramid Reconstruction Network (Kim et al., ACCV 2022).

Structure (official ``lib/InSPyReNet.py``, re-implemented; key names identical so ``latest.pth`` of the
official model zoo and ``ckpt_base.pth`` / ``ckpt_fast.pth`` of transparent-background load with strict=True):

    x1..x5 = backbone(img)                       strides 4, 4, 8, 16, 32
    xi     = context_i(xi)                       PAA-e, D channels each
    f3, d3 = decoder([x3, x4, x5])               PAA-d, d3: stride-8 saliency logits (Stage-3)
    f2, p2 = attention2(cat[x2, up(f3)], sg(d3))               d2 = EXPAND(sg(d3)) + p2   (Stage-2, /4)
    f1, p1 = attention1(cat[up(x1), up(f2)], sg(d2), sg(p2))   d1 = EXPAND(sg(d2)) + p1   (Stage-1, /2)
    _,  p0 = attention0(up(f1), sg(d1), sg(p1))                d0 = EXPAND(sg(d1)) + p0   (Stage-0, /1)

``sg`` = stop-gradient (paper Sec. 3.2): each stage's loss trains only its own Laplacian ``p_k``; SICA receives
detached maps. All maps are logits. ``up`` = bilinear, align_corners=False.

``base_size`` (the training resolution) only sets SICA's pooling grid; nothing in the state_dict depends on it, but
inference must use the value the weights were trained with (384 for the paper models, ``ckpt_fast`` and
``*_LR``; 1024 for ``ckpt_base``, Plus_Ultra, DIS5K). Our checkpoints store it in ``meta`` and loading checks it.

Deviation: f3 is resized to x2's size instead of (H//4, W//4); the two agree whenever H and W are multiples of 4,
otherwise the official code fails on the concatenation. Output logits are at 8x the stride-8 size (>= input);
``predict`` resizes back to the input size.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from wsss.models.saliency.layers import SICA, PAADecoder, PAAEncoder
from wsss.models.saliency.pyramid import ImagePyramid, Transition
from wsss.registry import BACKBONES, LOSSES, SALIENCY_MODELS
from wsss.utils.imaging import minmax_normalize


@SALIENCY_MODELS.register_module()
class InSPyReNet(nn.Module):
    """InSPyReNet saliency model (interface in docs/ARCHITECTURE.md: ``loss(batch)``, ``predict(img)``).

    Args:
        backbone: BACKBONES config (``Res2NetV1b`` or ``SwinTransformerV1``) or a module with ``out_channels``
            (5 entries) and ``forward -> 5 feature maps``.
        depth: channels of the decoder (64 in every released model).
        base_size: training resolution (h, w); run-time attribute, see module docstring.
        threshold: pyramid-blending threshold of the official inference (512 for Swin-B, None for Res2Net):
            blend a low- and a high-resolution pass when both sides of the high-resolution input exceed it.
        loss: LOSSES config.
    """

    #: pre-processing resize of the official test code (PIL bilinear; see wsss.saliency.inference)
    input_resize = 'pil'
    #: SICA pools on the training grid: inference must use the base size the weights were trained with
    base_size_fixed = True

    def __init__(self, backbone: Any, depth: int = 64, base_size: Sequence[int] = (384, 384),
                 threshold: Optional[int] = None, loss: Optional[dict] = None):
        super().__init__()
        self.backbone = BACKBONES.build(backbone) if isinstance(backbone, Mapping) else backbone
        c = list(self.backbone.out_channels)
        if len(c) != 5:
            raise ValueError(f'InSPyReNet needs a backbone with 5 outputs, got out_channels={c}')
        self.depth, self.threshold = depth, threshold
        for i in range(5):
            self.add_module(f'context{i + 1}', PAAEncoder(c[i], depth))
        self.decoder = PAADecoder(depth * 3, depth=depth)
        self.attention0 = SICA(depth, depth=depth, stage=0, lmap_in=True)
        self.attention1 = SICA(depth * 2, depth=depth, stage=1, lmap_in=True)
        self.attention2 = SICA(depth * 2, depth=depth, stage=2)
        # kernels: non-persistent buffers (not in the official state_dict)
        self.image_pyramid = ImagePyramid(7, 1.0)
        self.transition0 = Transition(17)
        self.transition1 = Transition(9)
        self.transition2 = Transition(5)
        self.criterion = LOSSES.build(loss if loss is not None else dict(type='InSPyReNetLoss'))
        self.base_size = base_size
        self.trained_base_size: Optional[tuple[int, int]] = None  # set when a checkpoint records it

    # ------------------------------------------------------------------ base size
    @property
    def base_size(self) -> Optional[tuple[int, int]]:
        return self._base_size

    @base_size.setter
    def base_size(self, value: Optional[Sequence[int]]) -> None:
        if value is not None:
            value = (int(value[0]), int(value[1])) if not isinstance(value, int) else (value, value)
        self._base_size = value
        for m in (self.attention0, self.attention1, self.attention2):
            m.set_base_size(value)

    @property
    def backbone_name(self) -> str:
        return describe_backbone(self.state_dict())[1]

    def checkpoint_meta(self) -> dict:
        """``meta`` stored with our checkpoints."""
        return {'model': 'InSPyReNet', 'backbone': self.backbone_name,
                'base_size': list(self.base_size) if self.base_size else None, 'depth': self.depth}

    # ------------------------------------------------------------------ forward
    def forward(self, img: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        """Saliency pyramid ``{'saliency': [d3, d2, d1, d0], 'laplacian': [p2, p1, p0]}`` (logits)."""
        h, w = img.shape[-2:]

        def res(x, size):
            return F.interpolate(x, size=size, mode='bilinear', align_corners=False)

        x1, x2, x3, x4, x5 = self.backbone(img)
        x1, x2, x3 = self.context1(x1), self.context2(x2), self.context3(x3)
        x4, x5 = self.context4(x4), self.context5(x5)

        f3, d3 = self.decoder([x3, x4, x5])                                   # Stage-3 (/8)
        f3 = res(f3, x2.shape[-2:])
        f2, p2 = self.attention2(torch.cat([x2, f3], dim=1), d3.detach())
        d2 = self.image_pyramid.reconstruct(d3.detach(), p2)                  # Stage-2 (/4)

        half = (h // 2, w // 2)
        f1, p1 = self.attention1(torch.cat([res(x1, half), res(f2, half)], dim=1), d2.detach(), p2.detach())
        d1 = self.image_pyramid.reconstruct(d2.detach(), p1)                  # Stage-1 (/2)

        _, p0 = self.attention0(res(f1, (h, w)), d1.detach(), p1.detach())
        d0 = self.image_pyramid.reconstruct(d1.detach(), p0)                  # Stage-0 (/1)
        return {'saliency': [d3, d2, d1, d0], 'laplacian': [p2, p1, p0]}

    def loss(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        out = self(batch['img'])
        return self.criterion(out['saliency'], batch['gt'])

    def blend(self, lr: Mapping[str, list], hr: Mapping[str, list]) -> torch.Tensor:
        """Pyramid blending (paper Sec. 3.3): start from the LR result, add HR Laplacians inside transition
        regions. ``d3 = resize(lr_d0 -> hr_d3)``; for k = 2, 1, 0: ``p_k = resize(T_k(d_{k+1})) * hr_p_k``,
        ``d_k = EXPAND(d_{k+1}) + p_k`` with ellipse sizes 5, 9, 17. Returns d0 logits."""
        hr_d3 = hr['saliency'][0]
        d = F.interpolate(lr['saliency'][3], size=hr_d3.shape[-2:], mode='bilinear', align_corners=False)
        for trans, p in zip((self.transition2, self.transition1, self.transition0), hr['laplacian']):
            t = F.interpolate(trans(d), size=p.shape[-2:], mode='bilinear', align_corners=False)
            d = self.image_pyramid.reconstruct(d, t * p)
        return d

    @staticmethod
    def probability(logits: torch.Tensor) -> torch.Tensor:
        """Official post-processing of the finest logits: sigmoid, then min-max per image (the official code
        takes min/max over the whole batch tensor; per image makes batched and single-image results identical)."""
        return minmax_normalize(torch.sigmoid(logits.float()))

    @torch.no_grad()
    def predict(self, img: torch.Tensor) -> torch.Tensor:
        """One pass: (B, 1, H, W) saliency in [0, 1] at the input size (``probability``, then bilinear resize
        with align_corners=True)."""
        p = self.probability(self(img)['saliency'][3])
        if p.shape[-2:] != img.shape[-2:]:
            p = F.interpolate(p, size=img.shape[-2:], mode='bilinear', align_corners=True)
        return p

    def load_checkpoint(self, path: str | os.PathLike, base_size: Optional[Sequence[int]] = None) -> dict:
        """:func:`load_inspyrenet_checkpoint` into this model (every saliency model has this method); returns
        the checkpoint's ``meta``."""
        return load_inspyrenet_checkpoint(self, path, base_size)


@SALIENCY_MODELS.register_module(name='InSPyReNet_Res2Net50')
def inspyrenet_res2net50(base_size: Sequence[int] = (384, 384), depth: int = 64, pretrained: Optional[str] = None,
                         threshold: Optional[int] = None, loss: Optional[dict] = None, **backbone_kw) -> InSPyReNet:
    """Paper model with Res2Net-50 v1b 26w-4s (official: base 384, threshold None)."""
    return InSPyReNet(dict(type='Res2NetV1b', pretrained=pretrained, **backbone_kw), depth, base_size,
                      threshold, loss)


@SALIENCY_MODELS.register_module(name='InSPyReNet_SwinB')
def inspyrenet_swinb(base_size: Sequence[int] = (384, 384), depth: int = 64, pretrained: Optional[str] = None,
                     threshold: Optional[int] = 512, loss: Optional[dict] = None, **backbone_kw) -> InSPyReNet:
    """Paper model with Swin-B window 12 (official: base 384, threshold 512; transparent-background
    ``ckpt_fast``: base 384, ``ckpt_base``: base 1024, both used without blending)."""
    return InSPyReNet(dict(type='SwinTransformerV1', pretrained=pretrained, **backbone_kw), depth, base_size,
                      threshold, loss)


# ---------------------------------------------------------------------- checkpoints
def describe_backbone(state_dict: Mapping[str, torch.Tensor]) -> tuple[str, str]:
    """(kind, human label) of the backbone behind ``backbone.*`` keys: ('swin', 'Swin-B'), ('res2net',
    'Res2Net-50'), or ('none'/'unknown', ...)."""
    keys = list(state_dict)
    if 'backbone.patch_embed.proj.weight' in state_dict:
        embed = int(state_dict['backbone.patch_embed.proj.weight'].shape[0])
        n2 = len({k.split('.')[4] for k in keys if k.startswith('backbone.layers.2.blocks.')})
        name = {128: 'Swin-B', 192: 'Swin-L'}.get(embed, 'Swin-T' if (embed == 96 and n2 == 6) else
                                                   'Swin-S' if embed == 96 else f'Swin (embed_dim {embed})')
        return 'swin', name
    if 'backbone.layer1.0.convs.0.weight' in state_dict:
        n3 = len({k.split('.')[2] for k in keys if k.startswith('backbone.layer3.')})
        stem = int(state_dict['backbone.bn1.weight'].shape[0]) if 'backbone.bn1.weight' in state_dict else 64
        name = {6: 'Res2Net-50', 23: 'Res2Net-101'}.get(n3, f'Res2Net ({n3} layer3 blocks)')
        if stem != 64:
            name += f' (base_channels {stem})'
        return 'res2net', name
    if not any(k.startswith('backbone.') for k in keys):
        return 'none', 'no InSPyReNet backbone keys'
    return 'unknown', 'an unknown backbone'


def split_checkpoint(obj: Any, path: str | os.PathLike) -> tuple[dict, dict]:
    """(state_dict, meta) from an official raw state_dict or our ``{'state_dict', 'meta'}``."""
    from wsss.utils.checkpoint import extract_state_dict, strip_prefix
    meta = dict(obj.get('meta') or {}) if isinstance(obj, Mapping) and 'state_dict' in obj else {}
    return strip_prefix(extract_state_dict(obj, path)), meta


def load_inspyrenet_checkpoint(model: InSPyReNet, path: str | os.PathLike,
                               base_size: Optional[Sequence[int]] = None) -> dict:
    """Load an official ``latest.pth`` / transparent-background ``ckpt_*.pth`` (raw state_dict) or our checkpoint
    into ``model`` (strict), with clear errors. Returns the checkpoint's ``meta`` ({} for official files).

    - Backbone-only ImageNet weights, another model, or the wrong backbone -> error saying which.
    - ``base_size`` (the user's request; default ``model.base_size``) must equal ``meta['base_size']`` when the
      checkpoint records it. Official files record nothing: their base size is documented per file (384 for
      ``latest.pth`` of the paper models and ``ckpt_fast.pth``, 1024 for ``ckpt_base.pth``).
    """
    from wsss.utils.checkpoint import load_checkpoint_file, load_state_dict_checked
    sd, meta = split_checkpoint(load_checkpoint_file(path), path)
    kind, label = describe_backbone(sd)
    own_kind, own_label = describe_backbone(model.state_dict())
    if not any(k.startswith('context1.') for k in sd):
        hint = (' It looks like backbone-only ImageNet weights: pass them as model.backbone.pretrained instead.'
                if any(k.startswith(('conv1.', 'layer1.', 'patch_embed.', 'layers.')) for k in sd) else '')
        raise RuntimeError(f'{path} is not an InSPyReNet checkpoint (no context1.* keys; {len(sd)} keys, '
                           f'first {list(sd)[:3]}).{hint}')
    if kind != own_kind or label != own_label:
        raise RuntimeError(f'{path}: this is a {label} checkpoint but the config builds {own_label} '
                           f'(choose the config that matches the checkpoint)')
    want = tuple(int(v) for v in (base_size if base_size is not None else model.base_size))
    if meta.get('base_size') is not None:
        have = tuple(int(v) for v in meta['base_size'])
        if have != want:
            raise ValueError(f'{path} was trained with base_size {list(have)} but base_size {list(want)} was '
                             f'requested; SICA pools on the training grid, so use base_size={list(have)} '
                             f'(config model.base_size / --base-size)')
    load_state_dict_checked(model, sd, path, strict=True)
    model.base_size = want
    # what the weights were trained with, when the file says so (checked again by the inference engine)
    model.trained_base_size = tuple(int(v) for v in meta['base_size']) if meta.get('base_size') else None
    return meta
