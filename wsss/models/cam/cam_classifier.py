"""The CAM classifier: backbone (+ neck) → feature dropout → one CAM head, the method."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from wsss.registry import BACKBONES, CAM_HEADS, CAM_MODELS, NECKS


@CAM_MODELS.register_module()
class CAMClassifier(nn.Module):
    """Multi-label CAM classifier; the method is its head (``CAM_HEADS``).

    =================  ================================================  ===========================================
    head               method                                            config
    =================  ================================================  ===========================================
    ``CAMHead``        plain CAM (PSA)                                   ``configs/_base_/models/cam_plain.py``
    ``EPSHead``        EPS: background channel + saliency loss           ``configs/_base_/models/cam_eps.py``
    ``SeeNetHead``     SeeNet: S_A, S_B (C-ReLU), S_C (background zone)  ``configs/_base_/models/cam_seenet.py``
    ``EPSSeeNetHead``  EPS + SeeNet (this project's method)              ``configs/_base_/models/cam_eps_seenet.py``
    =================  ================================================  ===========================================

    A new method is a new head class (see :class:`~wsss.models.cam.cam_head.CAMHead` for the interface) plus a
    config naming it; this class does not change.

    Args:
        backbone: BACKBONES config; its stage ``in_index`` (default the last) feeds the head.
        head: CAM_HEADS config; ``in_channels`` and ``num_classes`` are given here.
        num_classes: C foreground classes (VOC 20).
        neck: None, or a NECKS config (``ConvNeck``) between the backbone feature and the head (keys ``neck.*``);
            None keeps the official layouts.
        dropout: Dropout2d on the feature before the head (PSA's plain CAM "dropout7": 0.5; EPS: 0).

    The pipeline uses: ``loss(batch) -> dict`` (``loss_*`` terms), ``cam_maps(img, cls_label=None)`` (B, C, h, w)
    non-negative maps, ``forward(img, cls_label=None)`` (the head's raw outputs) and the head's attributes
    ``flip_fusion`` ('sum' | 'max'), ``background_channel`` and ``needs_saliency`` (the loss reads ``batch['sal']``).

    State dict: the head's parameters are stored at the root with the official names (``fc8.weight``, and
    ``fc8_b.*``, ``fc8_c.*``); with a backbone whose ``keys_at_root`` is true (ResNet38) the backbone's too
    (``conv1a.weight``, ..., ``bn7.*``), so a released EPS checkpoint (``fc8.weight`` [21, 4096, 1, 1]) or a PSA
    classifier (``fc8.weight`` [20, 4096, 1, 1]) loads with ``strict=True``; ``backbone.``- and
    ``head.``-prefixed keys are accepted too. Parameter names (for ``paramwise_cfg.custom_keys``) keep the module
    path: ``backbone.*``, ``neck.*``, ``head.fc8*``; ``custom_keys={'fc8': dict(lr_mult=10)}`` hits every head
    and nothing in the backbones (do not use ``'branch'``: ResNet-38's ``conv_branch*`` would match).
    """

    def __init__(self, backbone: dict, head: dict, num_classes: int = 20, neck: Optional[dict] = None,
                 dropout: float = 0.0, in_index: int = -1):
        super().__init__()
        self.backbone = BACKBONES.build(backbone)
        self.num_classes = num_classes
        self.in_index = in_index
        in_ch = self.backbone.out_channels[in_index]
        self.neck = nn.Identity()
        if neck is not None:
            self.neck = NECKS.build({**neck, 'in_channels': in_ch})
            in_ch = self.neck.out_channels
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        given = {'in_channels', 'num_classes'} & set(head)
        if given:
            raise ValueError(f'head config sets {sorted(given)}: CAMClassifier gives them (set model.num_classes)')
        self.head = CAM_HEADS.build({**head, 'in_channels': in_ch, 'num_classes': num_classes})
        self.root_children = ('head',) + (('backbone',) if getattr(self.backbone, 'keys_at_root', False) else ())
        _check_root_names(self)
        self.register_state_dict_post_hook(_children_keys_to_root)
        self.register_load_state_dict_pre_hook(_children_keys_from_root)

    # the head's attributes, read by the pipeline
    @property
    def flip_fusion(self) -> str:
        return self.head.flip_fusion

    @property
    def background_channel(self) -> bool:
        return bool(self.head.background_channel)

    @property
    def needs_saliency(self) -> bool:
        return bool(self.head.needs_saliency)

    def extract_feat(self, img: torch.Tensor) -> torch.Tensor:
        return self.neck(self.backbone(img)[self.in_index])

    def forward(self, img: torch.Tensor, cls_label: Optional[torch.Tensor] = None) -> dict:
        """The head's raw outputs: ``cam`` (B, C[+1], h, w) and the head's own maps."""
        return self.head(self.dropout(self.extract_feat(img)), cls_label)

    def loss(self, batch: dict) -> dict:
        out = self.forward(batch['img'], batch['cls_label'].float())
        return self.head.loss(out, batch)

    def cam_maps(self, img: torch.Tensor, cls_label: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, C, h, w) non-negative per-class maps of one pass, by the head's test-time rule (``cls_label``
        (B, C): the image labels, used by heads whose forward needs them, e.g. SeeNet's C-ReLU mask)."""
        return self.head.cam_maps(self.forward(img, cls_label))


# ---------------------------------------------------------------------------------------------------------
# state_dict hooks: the children named in ``root_children`` store their keys at the root of the state_dict
# (official ResNet-38 / EPS / PSA names)
# ---------------------------------------------------------------------------------------------------------
def _root_names(child: nn.Module) -> set:
    return set(child._modules) | set(child._parameters) | set(child._buffers)


def _check_root_names(module: nn.Module) -> None:
    seen = {n: '' for n in _root_names(module)}
    for c in module.root_children:
        for n in _root_names(getattr(module, c)):
            if n in seen:
                raise ValueError(f'state_dict key clash at the root: {c}.{n} and {seen[n] or "the model"}.{n}')
            seen[n] = c


def _children_keys_to_root(module, state_dict, prefix, local_metadata) -> None:
    olds = [prefix + c + '.' for c in module.root_children]
    items = list(state_dict.items())
    state_dict.clear()
    for k, v in items:
        old = next((o for o in olds if k.startswith(o)), None)
        state_dict[prefix + k[len(old):] if old else k] = v
    meta = getattr(state_dict, '_metadata', None)
    if meta is not None:
        for k in list(meta):
            old = next((o for o in olds if k.startswith(o)), None)
            if old:
                meta[prefix + k[len(old):]] = meta.pop(k)
            elif k + '.' in olds:
                del meta[k]


def _children_keys_from_root(module, state_dict, prefix, local_metadata, strict, missing_keys,
                             unexpected_keys, error_msgs) -> None:
    owner = {n: c for c in module.root_children for n in _root_names(getattr(module, c))}

    def child_of(k):
        return owner.get(k[len(prefix):].split('.', 1)[0]) if k.startswith(prefix) else None

    for k in [k for k in state_dict if child_of(k)]:
        state_dict[prefix + child_of(k) + '.' + k[len(prefix):]] = state_dict.pop(k)
    meta = getattr(state_dict, '_metadata', None)
    if meta is not None:
        for k in list(meta):
            c = child_of(k)
            if c:
                meta[prefix + c + '.' + k[len(prefix):]] = meta[k]
