"""Building blocks of InSPyReNet: PAA encoder/decoder (from UACANet) and SICA.

Attribute names follow the official implementation so that its checkpoints load with ``strict=True``
(``conv``/``bn`` inside every conv block, ``Hattn``/``Wattn``, ``branch0..3``, ``conv_query`` ...).
Shapes: B batch, C channels, (H, W) feature size, D = ``depth`` (64 in every released model).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from wsss.models.layers import ConvBNAct


def _fp32(x: torch.Tensor):
    """Context manager: autocast off (float32 maths) for numerically fragile steps."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def _up(t: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16/float32 -> float32; float64 stays float64."""
    return t if t.dtype == torch.float64 else t.float()


class AxialAttention(nn.Module):
    """Self-attention over ``axis = H`` ('h') or ``axis = W`` ('w') positions (official ``SelfAttention``).

    q, k: 1x1 conv C -> C/8 (+BN); v: 1x1 conv C -> C (+BN); out = gamma * attn(v) + x, gamma starts at 0.

    Deviation kept on purpose (checkpoint compatibility): the official code forms the "axis" tokens with
    ``tensor.view(B, -1, axis)`` on a contiguous (B, C, H, W) tensor, without a permute, so each token is
    a chunk of ``axis`` consecutive memory elements rather than a row/column of the image. We reproduce this
    reinterpretation exactly; the trained weights expect it.
    """

    def __init__(self, channels: int, mode: str = 'h'):
        super().__init__()
        if mode not in ('h', 'w', 'hw'):
            raise ValueError(f"mode must be 'h', 'w' or 'hw', got {mode!r}")
        self.mode = mode
        self.query_conv = ConvBNAct(channels, channels // 8, 1)
        self.key_conv = ConvBNAct(channels, channels // 8, 1)
        self.value_conv = ConvBNAct(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        axis = (h if 'h' in self.mode else 1) * (w if 'w' in self.mode else 1)
        q = self.query_conv(x).reshape(b, -1, axis).transpose(1, 2)      # (B, axis, C/8 * rest)
        k = self.key_conv(x).reshape(b, -1, axis)                        # (B, C/8 * rest, axis)
        with _fp32(x):  # the logits sum C/8 * rest products: keep them out of float16 under autocast
            attn = torch.softmax(torch.bmm(_up(q), _up(k)), dim=-1)  # (B, axis, axis)
        v = self.value_conv(x).reshape(b, -1, axis)                      # (B, C * rest, axis)
        out = torch.bmm(v, attn.to(v.dtype).transpose(1, 2)).reshape(b, c, h, w)
        return self.gamma * out + x


class PAAKernel(nn.Module):
    """One parallel-axial-attention branch: 1x1 -> (1,k) -> (k,1) -> H-attn + W-attn -> 3x3 dilated k."""

    def __init__(self, in_channels: int, out_channels: int, k: int):
        super().__init__()
        self.conv0 = ConvBNAct(in_channels, out_channels, 1)
        self.conv1 = ConvBNAct(out_channels, out_channels, (1, k))
        self.conv2 = ConvBNAct(out_channels, out_channels, (k, 1))
        self.conv3 = ConvBNAct(out_channels, out_channels, 3, dilation=k)
        self.Hattn = AxialAttention(out_channels, 'h')
        self.Wattn = AxialAttention(out_channels, 'w')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2(self.conv1(self.conv0(x)))
        return self.conv3(self.Hattn(x) + self.Wattn(x))


class PAAEncoder(nn.Module):
    """PAA-e: channel reduction of one backbone stage to ``out_channels`` (official ``PAA_e``).

    out = ReLU(conv_cat(cat[branch0(x), PAA_3(x), PAA_5(x), PAA_7(x)]) + conv_res(x)).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.branch0 = ConvBNAct(in_channels, out_channels, 1)
        self.branch1 = PAAKernel(in_channels, out_channels, 3)
        self.branch2 = PAAKernel(in_channels, out_channels, 5)
        self.branch3 = PAAKernel(in_channels, out_channels, 7)
        self.conv_cat = ConvBNAct(4 * out_channels, out_channels, 3)
        self.conv_res = ConvBNAct(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cat = torch.cat([self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)], dim=1)
        return self.relu(self.conv_cat(cat) + self.conv_res(x))


class PAADecoder(nn.Module):
    """PAA-d: initial saliency logits at the stride-8 stage (official ``PAA_d``).

    Input ``[x3, x4, x5]`` (strides 8, 16, 32); x4, x5 are bilinearly upsampled (align_corners=True) to x3
    and concatenated in the order [x5, x4, x3]. Returns ``(features (B, D, h, w), logits (B, 1, h, w))``.
    """

    def __init__(self, in_channels: int, out_channels: int = 1, depth: int = 64):
        super().__init__()
        self.conv1 = ConvBNAct(in_channels, depth, 3)
        self.conv2 = ConvBNAct(depth, depth, 3)
        self.conv3 = ConvBNAct(depth, depth, 3)
        self.conv4 = ConvBNAct(depth, depth, 3)
        self.conv5 = ConvBNAct(depth, out_channels, 3, bn=False)
        self.Hattn = AxialAttention(depth, 'h')
        self.Wattn = AxialAttention(depth, 'w')

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        size = feats[0].shape[-2:]
        fs = [feats[0]] + [F.interpolate(f, size=size, mode='bilinear', align_corners=True) for f in feats[1:]]
        x = self.conv1(torch.cat(fs[::-1], dim=1))
        x = self.conv2(self.Hattn(x) + self.Wattn(x))
        x = self.conv4(self.conv3(x))
        return x, self.conv5(x)


class SICA(nn.Module):
    """Scale Invariant Context Attention (paper Sec. 3.1, OCRNet-style object-region context).

    1. Class maps from the coarser saliency logits ``smap`` (resized to x, sigmoid, s): p = s - t,
       fg = clip(p, 0, 1), bg = clip(-p, 0, 1), confusion = t - |p| (t: learnt ``threshold``, init 0.5);
       with ``lmap_in`` two more from the coarser Laplacian (fp, bp with ``lthreshold``): ctx = 5 maps, else 3.
    2. Context vectors: x and the maps are resized to the *training* grid ``stage_size = base_size / 2^stage``
       (this is what makes the attention scale invariant), then ``context = prob @ f`` (ctx x C).
    3. Attention: q = conv_query(x) (hw x D), k/v = conv_key/value(context) (ctx x D);
       sim = softmax(q k^T / sqrt(D)); y = conv_out1(sim v); x' = conv_out3(conv_out2(cat[x, y])).
    Returns ``(x' (B, D, H, W), Laplacian logits conv_out4(x') (B, 1, H, W))``.

    Deviation kept on purpose (checkpoint compatibility): the official code flattens the resized features
    with ``view(B, h*w, -1)`` on a (B, C, h, w) tensor (no permute), i.e. it reinterprets memory; reproduced.
    ``stage_size`` is None (use the input size) when no base size is set.
    """

    def __init__(self, in_channels: int, out_channels: int = 1, depth: int = 64,
                 stage: Optional[int] = None, lmap_in: bool = False):
        super().__init__()
        self.in_channels, self.depth, self.stage, self.lmap_in = in_channels, depth, stage, lmap_in
        self.stage_size: Optional[tuple[int, int]] = None
        self.conv_query = nn.Sequential(ConvBNAct(in_channels, depth, 3, relu=True),
                                        ConvBNAct(depth, depth, 3, relu=True))
        self.conv_key = nn.Sequential(ConvBNAct(in_channels, depth, 1, relu=True),
                                      ConvBNAct(depth, depth, 1, relu=True))
        self.conv_value = nn.Sequential(ConvBNAct(in_channels, depth, 1, relu=True),
                                        ConvBNAct(depth, depth, 1, relu=True))
        self.ctx = 5 if lmap_in else 3
        self.conv_out1 = ConvBNAct(depth, depth, 3, relu=True)
        self.conv_out2 = ConvBNAct(in_channels + depth, depth, 3, relu=True)
        self.conv_out3 = ConvBNAct(depth, depth, 3, relu=True)
        self.conv_out4 = ConvBNAct(depth, out_channels, 1)
        self.threshold = nn.Parameter(torch.tensor([0.5]))
        if lmap_in:
            self.lthreshold = nn.Parameter(torch.tensor([0.5]))

    def set_base_size(self, base_size: Optional[Sequence[int]]) -> None:
        if base_size is None or self.stage is None:
            self.stage_size = None
        else:
            self.stage_size = (int(base_size[0]) // 2 ** self.stage, int(base_size[1]) // 2 ** self.stage)

    def forward(self, x: torch.Tensor, smap: torch.Tensor,
                lmap: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.lmap_in != (lmap is not None):
            raise ValueError(f'SICA(lmap_in={self.lmap_in}) called with lmap={"given" if lmap is not None else None}')
        b, c, h, w = x.shape
        # step 1: class maps (fg / bg / confusion [/ Laplacian fg / bg])
        s = torch.sigmoid(F.interpolate(smap, size=(h, w), mode='bilinear', align_corners=False))
        p = s - self.threshold
        maps = [p.clamp(0, 1), (-p).clamp(0, 1), self.threshold - p.abs()]
        if lmap is not None:
            lp = torch.sigmoid(F.interpolate(lmap, size=(h, w), mode='bilinear', align_corners=False)) - self.lthreshold
            maps += [lp.clamp(0, 1), (-lp).clamp(0, 1)]
        prob = torch.cat(maps, dim=1)
        # step 2: context vectors on the training-resolution grid
        grid = self.stage_size if self.stage_size is not None else (h, w)
        n = grid[0] * grid[1]
        q = self.conv_query(x).reshape(b, self.depth, -1).transpose(1, 2)              # (B, hw, D)
        # The context vectors are un-normalised sums over the whole grid (up to ~1e5 at base 384, stage 0): in
        # float16 they overflow, so this small branch always runs in float32 (autocast off).
        with _fp32(x):
            f = F.interpolate(_up(x), size=grid, mode='bilinear', align_corners=False).reshape(b, n, -1)  # quirk
            prob = F.interpolate(_up(prob), size=grid, mode='bilinear', align_corners=False).reshape(b, self.ctx, n)
            context = torch.bmm(prob, f).transpose(1, 2).unsqueeze(3)                   # (B, C, ctx, 1)
            # step 3: attention of every pixel over the ctx context vectors
            k = self.conv_key(context).reshape(b, self.depth, -1)                      # (B, D, ctx)
            v = self.conv_value(context).reshape(b, self.depth, -1).transpose(1, 2)    # (B, ctx, D)
            sim = torch.softmax(torch.bmm(_up(q), k) * self.depth ** -0.5, dim=-1)
            y = torch.bmm(sim, v).transpose(1, 2).reshape(b, -1, h, w)
        y = y.to(q.dtype)
        y = self.conv_out1(y)
        x = self.conv_out3(self.conv_out2(torch.cat([x, y], dim=1)))
        return x, self.conv_out4(x)
