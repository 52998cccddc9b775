"""One CAM classifier for plain CAM, EPS, SeeNet and EPS+SeeNet (the method is chosen by the config)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.cam.seenet import (background_mask, c_relu, fuse_max, minmax_normalize, seenet_attention,
                                    ternary_mask)
from wsss.registry import BACKBONES, CAM_MODELS, LOSSES, NECKS

_SEENET_DEFAULTS = dict(delta_h=0.7, delta_l=0.05, num_convs=2, channels=512, dropout=0.5,
                        fused_sal_loss=True, branch_sal_loss=False, detach_branches=False,
                        test_fusion='max')


class BranchHead(nn.Module):
    """SeeNet branch head: ``num_convs × (conv3×3-channels + ReLU) → Dropout2d → 1×1 classifier (no bias)``.

    Parameter names: ``convs.{2i}.weight/bias`` and ``cls.weight``.
    """

    def __init__(self, in_channels: int, out_channels: int, num_convs: int = 2, channels: int = 512,
                 dropout: float = 0.5):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(num_convs):
            layers += [nn.Conv2d(in_channels if i == 0 else channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*layers)
        self.drop = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.cls = nn.Conv2d(channels if num_convs else in_channels, out_channels, 1, bias=False)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cls(self.drop(self.convs(x)))


@NECKS.register_module()
class ConvNeck(nn.Module):
    """``num_convs × (conv3×3 (dilation) + ReLU)`` between the backbone and the CAM heads, shared by every head.

    Widens the receptive field of shallow (truncated) backbones with layers that train from scratch; keys
    ``neck.convs.{2i}.weight/bias``.
    """

    def __init__(self, in_channels: int, num_convs: int = 2, channels: int = 256, dilation: int = 1):
        super().__init__()
        if num_convs < 1:
            raise ValueError(f'num_convs must be >= 1, got {num_convs}')
        layers: list[nn.Module] = []
        for i in range(num_convs):
            layers += [nn.Conv2d(in_channels if i == 0 else channels, channels, 3, padding=dilation,
                                 dilation=dilation), nn.ReLU(inplace=True)]
        self.convs = nn.Sequential(*layers)
        self.out_channels = channels
        for m in self.convs:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convs(x)


def _head(in_channels: int, out_channels: int, num_convs: int = 0, channels: int = 512,
          dropout: float = 0.0) -> nn.Module:
    """A bare bias-free 1×1 conv (official ``fc8``: key ``<name>.weight``) when ``num_convs == 0`` (then
    ``dropout`` is not used: set the model-level ``dropout``), else a :class:`BranchHead`."""
    if num_convs == 0:
        conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        nn.init.xavier_uniform_(conv.weight)                       # official fc8 init
        return conv
    return BranchHead(in_channels, out_channels, num_convs, channels, dropout)


@CAM_MODELS.register_module()
class CAMClassifier(nn.Module):
    """Multi-label CAM classifier; plain CAM, EPS, SeeNet and EPS+SeeNet are configs of this one class.

    ======================  ===============  =================  ============================================
    method                  ``background``   ``seenet``         ``sal_loss``
    ======================  ===============  =================  ============================================
    plain CAM (PSA)         False            None               None  (official: ``dropout=0.5``, "dropout7")
    EPS                     True (C+1)       None               ``dict(type='EPSSaliencyLoss', tau=.4, lam=.5)``
    SeeNet                  False            ``dict(...)``      None
    EPS+SeeNet              True             ``dict(...)``      EPSSaliencyLoss
    ======================  ===============  =================  ============================================

    Args:
        backbone: BACKBONES config; its stage ``in_index`` (default the last) feeds the heads.
        num_classes: C foreground classes (VOC 20).
        background: add a background channel (index C, last) to S_A (and S_B): C+1 outputs, softmax at test time.
        seenet: None, or SeeNet options (defaults in brackets): ``delta_h`` [0.7], ``delta_l`` [0.05]
            (relative to the attention map's maximum; the official Caffe deploy uses 0.8/0.0), ``num_convs`` [2]
            and ``channels`` [512] (paper head: conv3×3-512+ReLU ×2 → dropout → 1×1; ``num_convs=0`` gives a
            bare 1×1 ``fc8`` like EPS), ``dropout`` [0.5] (inside each branch head; unused when
            ``num_convs=0``), ``fused_sal_loss`` [True] (EPS+SeeNet only, see below).
        sal_loss: LOSSES config of the saliency loss (requires ``background=True``), e.g. EPSSaliencyLoss.
        cls_loss: LOSSES config of the multi-label loss on GAP logits (MultiLabelSoftMarginLoss).
        dropout: Dropout2d on the backbone feature before the heads (official plain CAM: 0.5; EPS: 0).
        flip_fusion: 'sum' | 'max' for multi-scale/flip fusion; default 'sum' without SeeNet (official EPS/PSA
            infer.py) and 'max' with SeeNet (paper test phase).
        neck: None, or a NECKS config (``ConvNeck``) between the backbone feature and every head (keys
            ``neck.*``); None keeps the official layouts.

    Parameter names (for ``paramwise_cfg.custom_keys``): ``backbone.*``; heads ``fc8`` (S_A / the only head),
    ``fc8_b`` (S_B), ``fc8_c`` (S_C). ``custom_keys={'fc8': dict(lr_mult=10)}`` hits every head and nothing in the
    backbones (do not use ``'branch'``: ResNet-38's ``conv_branch*`` would match). With a backbone whose
    ``keys_at_root`` is true (ResNet38) the state_dict stores the backbone at the root with the official names
    (``conv1a.weight``, ..., ``bn7.*``, ``fc8.weight``), so a released EPS checkpoint (``fc8.weight``
    [21, 4096, 1, 1]) or a PSA classifier (``fc8.weight`` [20, 4096, 1, 1]) loads with ``strict=True``;
    ``backbone.``-prefixed keys are accepted too.

    Losses (``loss(batch)``), on GAP logits z = mean_xy(cam):

    - ``loss_cls``: ``cls_loss(z_A[:, :C], y)`` (the background logit never enters, as official EPS);
    - ``loss_sal``: saliency loss on S_A's (C+1) map vs. ``batch['sal']``;
    - ``loss_cls_b``: ``cls_loss(z_B[:, :C], y)``;
    - ``loss_cls_c``: ``cls_loss(z_C, 0)`` — S_C's target is the all-zero vector over all C classes for every
      image: the background zone holds no object of any class. z_C is the plain GAP over the whole map of
      ``S_C(max(x, 0) · B)`` (features outside the background zone are zeroed, as S_B's erased zone);
    - ``loss_sal_fused`` (EPS+SeeNet): saliency loss on ``p_F = (softmax(S_A) + softmax(S_B)) / 2``.

    SeeNet (see ``wsss.models.cam.seenet``): S_A = ``fc8`` on the features x; attention
    ``M = max_{present k} minmax(max(A_k, 0))`` (detached) with A = S_A's class maps; S_B = ``fc8_b`` on
    ``C-ReLU(x) = max(x, 0) · T_A`` (ternary mask from δ_h, δ_l); S_C = ``fc8_c`` on ``max(x, 0) · B``
    (B = 1[M < (δ_h+δ_l)/2]). Every branch has a multi-label loss. Test time: per class
    ``max(minmax(max(S_A, 0)), minmax(max(S_B, 0)))``; flips/scales fused by max.
    The mask needs the image labels (the official C-ReLU layer takes the ground-truth label at test time too):
    :meth:`cam_maps` takes ``cls_label``; without it, classes with ``sigmoid(z_A) > 0.5`` (else the top-1) are used.

    **EPS+SeeNet** (``background=True`` + ``seenet`` + ``sal_loss``), how they combine and why:

    - S_A and S_B both have C+1 outputs (background last); S_C has C outputs (its target is all-zero anyway,
      and a background logit would be excluded from the loss as in EPS, so it would receive no gradient).
    - S_A is exactly the EPS head (``loss_cls`` + ``loss_sal`` with the official rule), so the model's S_A is an
      EPS classifier and ``num_convs=0`` lets it start from an EPS checkpoint.
    - The ternary/background masks are built from S_A's *softmax foreground probabilities*
      ``A_k = softmax(S_A)_k`` (k < C): these are the maps EPS makes saliency-consistent and against which the
      background channel competes, so the background zone (M < δ_l) reflects both the classifier and the
      saliency prior, which is what S_B's negation and S_C's "no object" target assume.
    - Where S_B gets its saliency supervision is a choice, and the shipped configs
      (``configs/_base_/models/cam_eps_seenet.py``) make it from measurements on the synthetic set (README):

      * shipped: ``branch_sal_loss=True, fused_sal_loss=False, detach_branches=True, test_fusion='mean'`` —
        S_B is a second EPS branch on the C-ReLU features (``loss_sal_b``: its own C+1 softmax must be
        saliency-consistent, so its probabilities in the negated background zone go to the background channel
        rather than spreading over the image), S_B and S_C train on detached features so the backbone follows
        S_A (the EPS solution), and the test-time map is the *mean* of the min-max normalised S_A and S_B maps.
        Measured (synthetic set, Lite0, 300 iterations, bg score 0.2): S_A alone 36 mIoU, unchanged by the
        branches; with the paper-style options S_A fell to 17–20.
      * paper-style alternative: ``fused_sal_loss=True`` applies the saliency loss to the fused distribution
        ``p_F = (p_A + p_B) / 2`` (``loss_sal_fused``; the EPS rule needs a distribution over C+1, which the
        max of normalised maps is not) instead of S_B alone — S_B sees zeroed features in the erased zone, the
        usually most salient part, so forcing S_B alone to reproduce saliency there can fight its erasing role;
        every branch trains the shared backbone (``detach_branches=False``).
    - Test time: ``test_fusion`` of ``minmax(softmax(S_A)_{:C})`` and ``minmax(softmax(S_B)_{:C})`` ('max' as
      SeeNet, or 'mean'); flips/scales fused by max.
    """

    def __init__(self, backbone: dict, num_classes: int = 20, background: bool = False,
                 seenet: Optional[dict] = None, sal_loss: Optional[dict] = None,
                 cls_loss: dict = dict(type='MultiLabelSoftMarginLoss'), dropout: float = 0.0,
                 in_index: int = -1, flip_fusion: Optional[str] = None, neck: Optional[dict] = None):
        super().__init__()
        if sal_loss is not None and not background:
            raise ValueError('sal_loss (EPS) needs background=True: the EPS rule uses a background channel')
        self.backbone = BACKBONES.build(backbone)
        self.num_classes = num_classes
        self.background_channel = bool(background)
        self.in_index = in_index
        in_ch = self.backbone.out_channels[in_index]
        self.neck = nn.Identity()
        if neck is not None:
            self.neck = NECKS.build({**neck, 'in_channels': in_ch})
            in_ch = self.neck.out_channels
        n_out = num_classes + int(background)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        if seenet is None:
            self.seenet = None
            self.fc8 = _head(in_ch, n_out)
        else:
            unknown = set(seenet) - set(_SEENET_DEFAULTS)
            if unknown:
                raise ValueError(f'unknown seenet options {sorted(unknown)}; known: {sorted(_SEENET_DEFAULTS)}')
            self.seenet = {**_SEENET_DEFAULTS, **seenet}
            hk = dict(num_convs=self.seenet['num_convs'], channels=self.seenet['channels'],
                      dropout=self.seenet['dropout'])
            self.fc8 = _head(in_ch, n_out, **hk)             # S_A
            self.fc8_b = _head(in_ch, n_out, **hk)           # S_B (C-ReLU input)
            self.fc8_c = _head(in_ch, num_classes, **hk)     # S_C (background-zone input), C outputs
        self.cls_loss = LOSSES.build(cls_loss)
        self.sal_loss = LOSSES.build(sal_loss) if sal_loss is not None else None
        if flip_fusion is None:
            flip_fusion = 'max' if self.seenet is not None else 'sum'
        if flip_fusion not in ('sum', 'max'):
            raise ValueError(f"flip_fusion must be 'sum' or 'max', got {flip_fusion!r}")
        self.flip_fusion = flip_fusion
        if getattr(self.backbone, 'keys_at_root', False):
            self.register_state_dict_post_hook(_backbone_keys_to_root)
            self.register_load_state_dict_pre_hook(_backbone_keys_from_root)

    @property
    def uses_saliency(self) -> bool:
        """Whether training reads ``batch['sal']`` (a saliency loss)."""
        return self.sal_loss is not None

    # ------------------------------------------------------------------------------------------------ forward
    def extract_feat(self, img: torch.Tensor) -> torch.Tensor:
        return self.neck(self.backbone(img)[self.in_index])

    def _class_maps(self, cam: torch.Tensor) -> torch.Tensor:
        """Non-negative foreground maps of one head: softmax fg probabilities (background) or relu(CAM)."""
        if self.background_channel:
            return F.softmax(cam, dim=1)[:, :self.num_classes]
        return torch.relu(cam[:, :self.num_classes])

    def _predicted_labels(self, cam_a: torch.Tensor) -> torch.Tensor:
        z = cam_a[:, :self.num_classes].mean((2, 3))
        lab = (torch.sigmoid(z) > 0.5).to(z.dtype)
        top1 = F.one_hot(z.argmax(1), self.num_classes).to(z.dtype)
        return torch.where(lab.sum(1, keepdim=True) > 0, lab, top1)

    def forward(self, img: torch.Tensor, cls_label: Optional[torch.Tensor] = None) -> dict:
        """Raw head outputs: ``cam`` (S_A / only head, (B, C[+1], h, w)); with SeeNet also ``cam_b``, ``cam_c``,
        ``att`` (M), ``ternary`` (T_A) and ``bg_mask`` (B)."""
        x = self.dropout(self.extract_feat(img))
        out = {'cam': self.fc8(x)}
        if self.seenet is None:
            return out
        s = self.seenet
        if cls_label is None:
            cls_label = self._predicted_labels(out['cam'])
        att = seenet_attention(self._class_maps(out['cam']), cls_label)            # M, detached
        tern = ternary_mask(att, s['delta_h'], s['delta_l'])                       # T_A ∈ {0, −1, 1}
        bg = background_mask(att, s['delta_h'], s['delta_l'])                      # B ∈ {0, 1}
        xe = x.detach() if s['detach_branches'] else x  # S_B/S_C leave the shared features to S_A
        out.update(att=att, ternary=tern, bg_mask=bg,
                   cam_b=self.fc8_b(c_relu(xe, tern)),                             # S_B(C-ReLU(x))
                   cam_c=self.fc8_c(c_relu(xe, bg)))                               # S_C(max(x, 0) · B)
        return out

    # ------------------------------------------------------------------------------------------------ training
    def loss(self, batch: dict) -> dict:
        img, label = batch['img'], batch['cls_label'].float()
        out = self.forward(img, label)
        c = self.num_classes
        losses = {'loss_cls': self.cls_loss(out['cam'][:, :c].mean((2, 3)), label)}
        sal = None
        if self.sal_loss is not None:
            if 'sal' not in batch:
                raise KeyError("this CAM model has a saliency loss but the batch has no 'sal': configure a "
                               'saliency source for the CAM stage')
            sal = batch['sal'].float()
            losses['loss_sal'] = self.sal_loss(out['cam'], sal, label)
        if self.seenet is not None:
            losses['loss_cls_b'] = self.cls_loss(out['cam_b'][:, :c].mean((2, 3)), label)
            z_c = out['cam_c'].mean((2, 3))
            losses['loss_cls_c'] = self.cls_loss(z_c, torch.zeros_like(z_c))       # S_C target: all-zero
            if sal is not None and self.seenet['branch_sal_loss']:  # S_B as its own EPS branch
                losses['loss_sal_b'] = self.sal_loss(out['cam_b'], sal, label)
            if sal is not None and self.seenet['fused_sal_loss']:
                p_f = 0.5 * (F.softmax(out['cam'], 1) + F.softmax(out['cam_b'], 1))
                losses['loss_sal_fused'] = self.sal_loss.from_probs(p_f, sal, label)
        return losses

    # ------------------------------------------------------------------------------------------------ test
    def cam_maps(self, img: torch.Tensor, cls_label: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, C, h, w) non-negative per-class maps of one pass, by the method's test-time rule.

        plain: ``relu(CAM)``; EPS: ``softmax over C+1`` then the C fg channels; SeeNet (± EPS): per class
        ``max(minmax(A), minmax(B))`` of S_A's and S_B's maps (``cls_label`` (B, C) selects the classes that
        build the C-ReLU mask; ignored without SeeNet).
        """
        out = self.forward(img, cls_label)
        if self.seenet is None:
            return self._class_maps(out['cam'])
        a, b = self._class_maps(out['cam']), self._class_maps(out['cam_b'])
        if self.seenet['test_fusion'] not in ('max', 'mean'):
            raise ValueError(f"seenet.test_fusion must be 'max' or 'mean', got {self.seenet['test_fusion']!r}")
        if self.seenet['test_fusion'] == 'mean':
            return 0.5 * (minmax_normalize(a) + minmax_normalize(b))
        return fuse_max(a, b)


# ---------------------------------------------------------------------------------------------------------
# state_dict hooks: backbone parameters at the root of the state_dict (official ResNet-38/EPS names)
# ---------------------------------------------------------------------------------------------------------
def _backbone_keys_to_root(module, state_dict, prefix, local_metadata) -> None:
    old = prefix + 'backbone.'
    items = list(state_dict.items())
    state_dict.clear()
    for k, v in items:
        state_dict[prefix + k[len(old):] if k.startswith(old) else k] = v
    meta = getattr(state_dict, '_metadata', None)
    if meta is not None:
        for k in list(meta):
            if k.startswith(old):
                meta[prefix + k[len(old):]] = meta.pop(k)
            elif k == old[:-1]:
                del meta[k]


def _backbone_keys_from_root(module, state_dict, prefix, local_metadata, strict, missing_keys,
                             unexpected_keys, error_msgs) -> None:
    roots = set(module.backbone._modules) | set(module.backbone._parameters) | set(module.backbone._buffers)
    for k in [k for k in state_dict if k.startswith(prefix)]:
        if k[len(prefix):].split('.', 1)[0] in roots:
            state_dict[prefix + 'backbone.' + k[len(prefix):]] = state_dict.pop(k)
    meta = getattr(state_dict, '_metadata', None)
    if meta is not None:
        for k in list(meta):
            if k.startswith(prefix) and k[len(prefix):].split('.', 1)[0] in roots:
                meta[prefix + 'backbone.' + k[len(prefix):]] = meta[k]
