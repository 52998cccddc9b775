"""BiRefNet: Bilateral Reference for High-Resolution Dichotomous Image Segmentation (Zheng et al., CAAI AIR 2024).

Re-implementation of the official ``models/birefnet.py`` (ZhengPeng7/BiRefNet @25cb930) in its released
configuration (``mul_scl_ipt='cat'``, ``cxt_num=3``, ``squeeze_block='BasicDecBlk_x1'``, ``dec_blk='BasicDecBlk'``
with ``ASPPDeformable``, ``dec_ipt=True`` split into patches, ``ms_supervision=True``, ``out_ref=True``), with the
official key names, so ``BiRefNet-*-epoch_*.pth`` and the HuggingFace ``model.safetensors`` load with strict=True.

    x1..x4 = bb(x)[1:] (+) up(bb(down(x))[1:])      'cat' multi-scale input: shared Swin, channels doubled
    x4     = squeeze(cat[up(x1), up(x2), up(x3), x4])   cxt_num = 3
    decoder (every resize bilinear, align_corners=True):
      p4 = block4(cat[x4, ipt5(P(x, /32))]);  p4 *= sigmoid(attn4(gdt4(p4)))               (outward reference)
      p3 = block3(cat[up(p4) + lat4(x3), ipt4(P(x, /16))]);  p3 *= sigmoid(attn3(gdt3(p3)))
      p2 = block2(cat[up(p3) + lat3(x2), ipt3(P(x, /8))]);   p2 *= sigmoid(attn2(gdt2(p2)))
      q1 = up_to_input(block1(cat[up(p2) + lat2(x1), ipt2(P(x, /4))]))
      p1 = conv_out1(cat[q1, ipt1(x)])                                                       (logits, H x W)

``P(x, /s)`` (inward reference, official ``image2patches``, 'b c (hg h) (wg w) -> b (c hg wg) h w') folds the
normalised input image into channels at 1/s of its size, so ``ipt5`` sees 3 * 32² channels; H and W must be
multiples of 32. In training the decoder also gives ``m_k = conv_ms_spvn_k(p_k)`` (k = 4, 3, 2, before the
attention), the gradient predictions ``gdt_convs_pred_k(gdt_k(p_k))`` and the gradient labels
``laplacian(mean_c(x)) * up(m_k)`` (see :mod:`wsss.models.saliency.birefnet_loss`).

Channels are derived from the backbone's widths (``out_channels[1:]``, doubled by 'cat'), so any Swin builds.
BatchNorm is always built (the official code builds it only when ``batch_size > 1``; all releases have it).
Deviations: none in the network; ``forward`` returns a dict instead of the official nested lists; the
classification head (``auxiliary_classification``, off in every release) is not implemented.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Mapping, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from wsss.models.saliency.birefnet_loss import image_gradient
from wsss.models.saliency.deform_aspp import ASPPDeformable
from wsss.registry import BACKBONES, LOSSES, SALIENCY_MODELS

#: H and W of the input must be multiples of this (5 levels of patch folding, output stride 32)
SIZE_DIVISOR = 32
#: official backbone configurations (``models/backbones/swin_v1.py``)
SWIN_V1 = {
    'Swin-T': dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7),
    'Swin-S': dict(embed_dim=96, depths=(2, 2, 18, 2), num_heads=(3, 6, 12, 24), window_size=7),
    'Swin-B': dict(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32), window_size=12),
    'Swin-L': dict(embed_dim=192, depths=(2, 2, 18, 2), num_heads=(6, 12, 24, 48), window_size=12),
}


def up(x: torch.Tensor, size) -> torch.Tensor:
    """Every resize of BiRefNet: bilinear, align_corners=True."""
    return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=True)


def image_to_patches(img: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Official ``image2patches(img, patch_ref=ref, 'b c (hg h) (wg w) -> b (c hg wg) h w')``: a (hg, wg) grid with
    hg = H // h, wg = W // w of (h, w) tiles stacked on channels, channel index ``(c * hg + i) * wg + j``."""
    b, c, H, W = img.shape
    h, w = ref.shape[-2:]
    hg, wg = H // h, W // w
    x = img.reshape(b, c, hg, h, wg, w).permute(0, 1, 2, 4, 3, 5)
    return x.reshape(b, c * hg * wg, h, w)


class SimpleConvs(nn.Module):
    """Inward-reference block (official ``SimpleConvs``): conv3x3 -> conv3x3, no normalisation or activation."""

    def __init__(self, in_channels: int, out_channels: int, inter_channels: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, inter_channels, 3, 1, 1)
        self.conv_out = nn.Conv2d(inter_channels, out_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(self.conv1(x))


class BasicDecBlk(nn.Module):
    """Official ``BasicDecBlk``: conv3x3 (in -> 64) -> bn_in -> ReLU -> ASPPDeformable -> conv3x3 (64 -> out) ->
    bn_out. Registration order as the official module (conv_in, relu_in, dec_att, conv_out, bn_in, bn_out)."""

    def __init__(self, in_channels: int, out_channels: int, inter_channels: int = 64, aspp_planes: int = 256):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, inter_channels, 3, 1, 1)
        self.relu_in = nn.ReLU(inplace=True)
        self.dec_att = ASPPDeformable(inter_channels, planes=aspp_planes)
        self.conv_out = nn.Conv2d(inter_channels, out_channels, 3, 1, 1)
        self.bn_in = nn.BatchNorm2d(inter_channels)
        self.bn_out = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dec_att(self.relu_in(self.bn_in(self.conv_in(x))))
        return self.bn_out(self.conv_out(x))


class BasicLatBlk(nn.Module):
    """Official ``BasicLatBlk``: one 1x1 conv with bias (key ``conv``)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class BiRefNetDecoder(nn.Module):
    """Official ``Decoder`` (module docstring). ``channels``: encoder widths deepest first, after the 'cat'
    doubling (Swin-L: [3072, 1536, 768, 384]). ``inter_channels`` (official 64, ``dec_channels_inter='fixed'``) and
    ``aspp_planes`` (official 256): the fixed widths inside the blocks; smaller values only for small models."""

    GDT_CHANNELS = 16  # official _N

    def __init__(self, channels: Sequence[int], inter_channels: int = 64, aspp_planes: int = 256):
        super().__init__()
        c = list(channels)
        ipt_in = [3 * 4 ** i for i in (5, 4, 3, 2, 0)]            # 3 * (stride)^2 for strides 32, 16, 8, 4, 1
        ipt_out = [c[0] // 8, c[0] // 8, c[1] // 8, c[2] // 8, c[3] // 8]
        dec_out = c[1:] + [c[3] // 2]
        dec_in = [c[i] + ipt_out[i] for i in range(4)]
        for i, (ci, co) in enumerate(zip(ipt_in, ipt_out)):
            self.add_module(f'ipt_blk{5 - i}', SimpleConvs(ci, co, inter_channels))
        for i in range(4):
            self.add_module(f'decoder_block{4 - i}', BasicDecBlk(dec_in[i], dec_out[i], inter_channels, aspp_planes))
        self.conv_out1 = nn.Sequential(nn.Conv2d(dec_out[3] + ipt_out[4], 1, 1))
        for i in range(3):
            self.add_module(f'lateral_block{4 - i}', BasicLatBlk(c[i + 1], dec_out[i]))
        for i in range(3):
            self.add_module(f'conv_ms_spvn_{4 - i}', nn.Conv2d(dec_out[i], 1, 1))
        n = self.GDT_CHANNELS
        for i in range(3):
            self.add_module(f'gdt_convs_{4 - i}', nn.Sequential(nn.Conv2d(dec_out[i], n, 3, 1, 1),
                                                                 nn.BatchNorm2d(n), nn.ReLU(inplace=True)))
        for name in ('gdt_convs_pred', 'gdt_convs_attn'):
            for i in range(3):
                self.add_module(f'{name}_{4 - i}', nn.Sequential(nn.Conv2d(n, 1, 1)))

    def inward(self, k: int, x: torch.Tensor, feat: torch.Tensor) -> torch.Tensor:
        """``cat[feat, ipt_blk_k(P(x))]`` with the image patches at ``feat``'s size (inward reference)."""
        patches = image_to_patches(x, feat)
        if patches.shape[-2:] != feat.shape[-2:]:
            patches = up(patches, feat.shape[-2:])
        return torch.cat([feat, getattr(self, f'ipt_blk{k}')(patches)], dim=1)

    def forward(self, x: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, x3: torch.Tensor, x4: torch.Tensor,
                gradient: Optional[torch.Tensor] = None) -> dict[str, list[torch.Tensor]]:
        """``gradient`` (training): the image Laplacian; it turns on the deep-supervision and gradient outputs."""
        train = gradient is not None
        masks, gdt_pred, gdt_label = [], [], []
        feat, lateral = self.inward(5, x, x4), (x3, x2, x1)
        for k in (4, 3, 2):
            p = getattr(self, f'decoder_block{k}')(feat)
            g = getattr(self, f'gdt_convs_{k}')(p)
            if train:
                m = getattr(self, f'conv_ms_spvn_{k}')(p)
                masks.append(m)
                gdt_pred.append(getattr(self, f'gdt_convs_pred_{k}')(g))
                gdt_label.append(gradient * up(m, gradient.shape[-2:]))   # official gdt_label_main_k
            p = p * torch.sigmoid(getattr(self, f'gdt_convs_attn_{k}')(g))  # outward reference, also at test
            lat = lateral[4 - k]
            feat = self.inward(k, x, up(p, lat.shape[-2:]) + getattr(self, f'lateral_block{k}')(lat))
        q = up(self.decoder_block1(feat), x.shape[-2:])
        p1 = self.conv_out1(self.inward(1, x, q))
        out = {'saliency': masks + [p1]}
        if train:
            out.update(gdt_pred=gdt_pred, gdt_label=gdt_label)
        return out


@SALIENCY_MODELS.register_module()
class BiRefNet(nn.Module):
    """BiRefNet saliency model (interface in docs/ARCHITECTURE.md: ``loss(batch)``, ``predict(img)``).

    Args:
        backbone: BACKBONES config of a backbone with 5 outputs of which the last 4 are used (strides 4..32),
            default Swin-L (``SwinTransformerV1``, window 12), or such a module.
        base_size: model input size (h, w) of the weights (1024 x 1024 for the releases but HR / 2K); used by the
            inference engine, nothing in the network depends on it.
        loss: LOSSES config (default ``BiRefNetLoss`` with the official DIS weights).
        inter_channels, aspp_planes: the fixed widths inside the decoder blocks (official 64 and 256; every release
            uses them). Smaller values make a small model for CPU runs (the synthetic config).

    ``forward(img)`` (img ImageNet-normalised, H and W multiples of 32) returns ``{'saliency': [p1]}`` in eval mode
    and ``{'saliency': [m4, m3, m2, p1], 'gdt_pred': [...], 'gdt_label': [...]}`` in training mode (logits;
    p1 at the input size, m_k at 1/32, 1/16, 1/8; gradient maps as in :class:`BiRefNetDecoder`).
    """

    #: pre-processing resize of the official ``inference.py`` (``utils.path_to_image``: cv2 INTER_LINEAR to the model
    #: size; the tutorial notebook uses PIL bilinear instead); see wsss.saliency.inference
    input_resize = 'cv2'
    #: the network runs at any multiple of 32, not only at the size it was trained at (see load_birefnet_checkpoint)
    base_size_fixed = False

    def __init__(self, backbone: Any = None, base_size: Sequence[int] = (1024, 1024),
                 loss: Optional[dict] = None, inter_channels: int = 64, aspp_planes: int = 256):
        super().__init__()
        if backbone is None:
            backbone = dict(type='SwinTransformerV1', **SWIN_V1['Swin-L'])
        self.bb = BACKBONES.build(backbone) if isinstance(backbone, Mapping) else backbone
        widths = list(self.bb.out_channels)[1:]
        if len(widths) != 4:
            raise ValueError(f'BiRefNet needs a backbone with 5 outputs (the last 4 are used), got '
                             f'out_channels={list(self.bb.out_channels)}')
        channels = [2 * w for w in widths[::-1]]                    # official lateral_channels_in_collection, 'cat'
        cxt = channels[1:][::-1][-3:]                              # official Config.cxt, cxt_num = 3
        self.squeeze_module = nn.Sequential(BasicDecBlk(channels[0] + sum(cxt), channels[0], inter_channels,
                                                        aspp_planes))
        self.decoder = BiRefNetDecoder(channels, inter_channels, aspp_planes)
        self.criterion = LOSSES.build(loss if loss is not None else dict(type='BiRefNetLoss'))
        self.base_size = tuple(int(v) for v in base_size) if base_size is not None else None
        self.threshold = None                                       # no pyramid blending
        self.trained_base_size: Optional[tuple[int, int]] = None    # set when a checkpoint records it

    @property
    def backbone_name(self) -> str:
        return describe_birefnet_backbone(self.state_dict())

    def checkpoint_meta(self) -> dict:
        """``meta`` stored with our checkpoints."""
        return {'model': 'BiRefNet', 'backbone': self.backbone_name,
                'base_size': list(self.base_size) if self.base_size else None}

    # ------------------------------------------------------------------ forward
    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Official ``forward_enc``: 'cat' multi-scale input, then the cxt_num = 3 context on x4."""
        feats = self.bb(x)[1:]
        half = self.bb(up(x, (x.shape[-2] // 2, x.shape[-1] // 2)))[1:]
        x1, x2, x3, x4 = [torch.cat([f, up(g, f.shape[-2:])], dim=1) for f, g in zip(feats, half)]
        x4 = torch.cat([up(x1, x4.shape[-2:]), up(x2, x4.shape[-2:]), up(x3, x4.shape[-2:]), x4], dim=1)
        return [x1, x2, x3, x4]

    def forward(self, img: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        h, w = img.shape[-2:]
        if h % SIZE_DIVISOR or w % SIZE_DIVISOR:
            raise ValueError(f'BiRefNet needs an input whose height and width are multiples of {SIZE_DIVISOR} '
                             f'(its decoder folds the image into 32x32 patches), got {h}x{w}; resize it, e.g. to '
                             f'{max(SIZE_DIVISOR, round(h / SIZE_DIVISOR) * SIZE_DIVISOR)}x'
                             f'{max(SIZE_DIVISOR, round(w / SIZE_DIVISOR) * SIZE_DIVISOR)}')
        x1, x2, x3, x4 = self.encode(img)
        x4 = self.squeeze_module(x4)
        gradient = image_gradient(img) if self.training else None
        return self.decoder(img, x1, x2, x3, x4, gradient)

    def loss(self, batch: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        out = self(batch['img'])
        return self.criterion(out['saliency'], batch['gt'], out.get('gdt_pred', ()), out.get('gdt_label', ()))

    @staticmethod
    def probability(logits: torch.Tensor) -> torch.Tensor:
        """Official post-processing: sigmoid of the logits (no min-max normalisation, no threshold)."""
        return torch.sigmoid(logits.float())

    @torch.no_grad()
    def predict(self, img: torch.Tensor) -> torch.Tensor:
        """One pass: (B, 1, H, W) saliency in [0, 1] at the input size, ``sigmoid(forward(img)['saliency'][-1])``."""
        return self.probability(self(img)['saliency'][-1])

    def load_checkpoint(self, path: str | os.PathLike, base_size: Optional[Sequence[int]] = None) -> dict:
        """:func:`load_birefnet_checkpoint` into this model; returns the checkpoint's ``meta``."""
        return load_birefnet_checkpoint(self, path, base_size)


def _factory(name: str, default_pretrained_note: str):
    def build(pretrained: Optional[str] = None, base_size: Sequence[int] = (1024, 1024),
              loss: Optional[dict] = None, **backbone_kw) -> BiRefNet:
        bb = dict(type='SwinTransformerV1', **SWIN_V1[name], pretrained=pretrained)
        bb.update(backbone_kw)
        return BiRefNet(bb, base_size, loss)
    build.__doc__ = (f'BiRefNet with {name} (official ``swin_v1_{name[-1].lower()}``). ``pretrained``: local path of '
                     f'the backbone ImageNet weights, {default_pretrained_note}; extra keywords go to the backbone.')
    return build


birefnet_swin_v1_l = SALIENCY_MODELS.register_module(name='BiRefNet_SwinV1L', module=_factory(
    'Swin-L', 'e.g. ``swin_large_patch4_window12_384_22kto1k.pth`` (released general / DIS / HRSOD models)'))
birefnet_swin_v1_t = SALIENCY_MODELS.register_module(name='BiRefNet_SwinV1T', module=_factory(
    'Swin-T', 'e.g. ``swin_tiny_patch4_window7_224_22kto1k_finetune.pth`` (``BiRefNet_lite``)'))


# ---------------------------------------------------------------------- checkpoints
def describe_birefnet_backbone(state_dict: Mapping[str, torch.Tensor], prefix: str = 'bb.') -> str:
    """Human label of the Swin behind ``bb.*`` keys, from ``patch_embed.proj.weight``'s width and the number of
    blocks of stage 2 (Swin-T: 96 and 6, Swin-S: 96 and 18, Swin-B: 128, Swin-L: 192)."""
    w = state_dict.get(f'{prefix}patch_embed.proj.weight')
    if w is None:
        return 'no Swin backbone' if not any(k.startswith(prefix) for k in state_dict) else 'an unknown backbone'
    embed = int(w.shape[0])
    blocks = len({k.split('.')[4] for k in state_dict if k.startswith(f'{prefix}layers.2.blocks.')})
    for name, cfg in SWIN_V1.items():
        if cfg['embed_dim'] == embed and cfg['depths'][2] == blocks:
            return name
    return f'Swin (embed_dim {embed}, {blocks} stage-3 blocks)'


def load_birefnet_checkpoint(model: BiRefNet, path: str | os.PathLike,
                             base_size: Optional[Sequence[int]] = None) -> dict:
    """Load an official BiRefNet ``.pth`` (raw state_dict; ``module.`` then ``_orig_mod.`` prefixes stripped, as the
    official ``check_state_dict``), a HuggingFace ``model.safetensors`` or our ``{'state_dict', 'meta'}`` checkpoint
    into ``model`` (strict). Returns the checkpoint's ``meta`` ({} for official files).

    Errors name the file: not a BiRefNet checkpoint (backbone-only ImageNet weights are recognised), another
    backbone than the config builds (both named), unreadable / truncated file, missing or mis-shaped keys.
    ``base_size`` (the user's request; None: ``meta['base_size']`` when the checkpoint records one, else
    ``model.base_size`` unchanged) becomes ``model.base_size``; unlike InSPyReNet (whose SICA pools on the training
    grid) any size that is a multiple of 32 runs, e.g. 512 x 512 for speed (a warning says it differs from the
    training size);
    ``model.trained_base_size`` is set from ``meta`` (official files record nothing: the releases use 1024 x 1024,
    ``*_HR`` 2048 x 2048, ``*-2K`` 2560 x 1440).
    """
    from wsss.utils.checkpoint import checkpoint_meta, extract_state_dict, load_checkpoint_file, \
        load_state_dict_checked
    obj = load_checkpoint_file(path)
    meta = checkpoint_meta(obj)
    sd = {}
    for k, v in extract_state_dict(obj, path).items():
        for prefix in ('module.', '_orig_mod.'):                    # official check_state_dict, in this order
            if k.startswith(prefix):
                k = k[len(prefix):]
        sd[k] = v
    if not any(k.startswith('decoder.') for k in sd) or not any(k.startswith('squeeze_module.') for k in sd):
        hint = (' It looks like backbone-only ImageNet weights: pass them as the backbone\'s pretrained instead.'
                if any(k.startswith(('patch_embed.', 'layers.')) for k in sd) else '')
        raise RuntimeError(f'{path} is not a BiRefNet checkpoint (no decoder.* / squeeze_module.* keys; {len(sd)} '
                           f'keys, first {list(sd)[:3]}).{hint}')
    have, own = describe_birefnet_backbone(sd), describe_birefnet_backbone(model.state_dict())
    if have != own:
        raise RuntimeError(f'{path}: this is a BiRefNet {have} checkpoint but the config builds BiRefNet {own} '
                           f'(choose the config that matches the checkpoint, e.g. BiRefNet_SwinV1T for '
                           f'BiRefNet_lite)')
    trained = tuple(int(v) for v in meta['base_size']) if meta.get('base_size') else None
    want = tuple(int(v) for v in base_size) if base_size is not None else None
    if trained is not None and want is not None and want != trained:
        # nothing in the network depends on the size: another one runs, at a cost in quality (README)
        logging.getLogger(__name__).warning('%s was trained at %s; running it at %s', path, list(trained), list(want))
    load_state_dict_checked(model, sd, path, strict=True)
    if want or trained:
        model.base_size = want or trained
    model.trained_base_size = trained
    return meta
