"""Swin Transformer (Liu et al., ICCV 2021), dense-prediction variant used by InSPyReNet (Swin-B, window 12).

Key names follow the original Microsoft / InSPyReNet layout (``patch_embed.{proj,norm}``,
``layers.{i}.blocks.{j}.{norm1,attn.qkv,attn.proj,attn.relative_position_bias_table,
attn.relative_position_index,norm2,mlp.fc1,mlp.fc2}``, ``layers.{0-2}.downsample.{reduction,norm}`` at the *end*
of a stage, extra output norms ``norm0..norm3``). ``relative_position_index`` is a persistent buffer as in the
official checkpoints.

Why not timm's ``swin_base_patch4_window12_384``: timm puts patch merging at the start of the next stage
(``layers.{1-3}.downsample``), orders the 2x2 merge differently, keeps ``relative_position_index``
non-persistent and has no ``norm0..3``; names and numerics cannot be mapped one-to-one.

Behaviour of the dense variant: inputs are right/bottom zero-padded to a multiple of the patch size, each
block zero-pads its (normalised) tokens to a multiple of the window (padded tokens are not masked), odd
feature sizes are padded before patch merging. Shifted blocks use the usual -100 cross-region mask.

``forward(x)`` returns ``[patch_embed (C, /4), norm0(stage0) (C, /4), norm1 (2C, /8), norm2 (4C, /16),
norm3 (8C, /32)]`` (C = embed_dim = 128 for Swin-B).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, trunc_normal_

from wsss.models.pretrained import weights_source
from wsss.registry import BACKBONES


def window_partition(x: torch.Tensor, ws: int) -> torch.Tensor:
    """(B, H, W, C) -> (B * nW, ws*ws, C), windows in row-major order."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_merge(windows: torch.Tensor, ws: int, h: int, w: int) -> torch.Tensor:
    """Inverse of ``window_partition``: (B * nW, ws*ws, C) -> (B, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class WindowAttention(nn.Module):
    """Multi-head self-attention inside a window with a learnt relative position bias
    (table of (2ws-1)^2 x heads entries, indexed by ``relative_position_index``)."""

    def __init__(self, dim: int, window_size: int, num_heads: int, qkv_bias: bool = True,
                 attn_drop: float = 0.0, proj_drop: float = 0.0):
        super().__init__()
        self.dim, self.ws, self.num_heads = dim, window_size, num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))
        ys, xs = torch.meshgrid(torch.arange(window_size), torch.arange(window_size), indexing='ij')
        coords = torch.stack([ys.flatten(), xs.flatten()])                 # (2, N)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)   # (N, N, 2)
        index = (rel[..., 0] + window_size - 1) * (2 * window_size - 1) + (rel[..., 1] + window_size - 1)
        self.register_buffer('relative_position_index', index)             # persistent: in the checkpoints
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        attn = q @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + bias.view(n, n, -1).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(bw // nw, nw, self.num_heads, n, n) + mask[None, :, None]
            attn = attn.view(-1, self.num_heads, n, n)
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj_drop(self.proj(x))


class SwinBlock(nn.Module):
    """(Shifted) window attention block: x + attn(norm1(x)); x + mlp(norm2(x)); with stochastic depth."""

    def __init__(self, dim: int, num_heads: int, window_size: int, shift_size: int, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, drop: float = 0.0, attn_drop: float = 0.0, drop_path: float = 0.0):
        super().__init__()
        self.ws, self.shift = window_size, shift_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window_size, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor, h: int, w: int, mask: Optional[torch.Tensor]) -> torch.Tensor:
        b, n, c = x.shape
        shortcut = x
        x = self.norm1(x).view(b, h, w, c)
        pad_b, pad_r = (-h) % self.ws, (-w) % self.ws
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        hp, wp = h + pad_b, w + pad_r
        if self.shift:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        x = self.attn(window_partition(x, self.ws), mask=mask if self.shift else None)
        x = window_merge(x, self.ws, hp, wp)
        if self.shift:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x[:, :h, :w, :].reshape(b, h * w, c)
        x = shortcut + self.drop_path(x)
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchMerging(nn.Module):
    """2x2 neighbourhood -> concat [x(0,0), x(1,0), x(0,1), x(1,1)] (4C) -> LayerNorm -> Linear 4C -> 2C."""

    def __init__(self, dim: int):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        b, n, c = x.shape
        x = x.view(b, h, w, c)
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.reshape(b, -1, 4 * c)))


class SwinStage(nn.Module):
    """``depth`` blocks (even: regular windows, odd: shifted by ws // 2), then optional patch merging."""

    def __init__(self, dim: int, depth: int, num_heads: int, window_size: int, mlp_ratio: float,
                 qkv_bias: bool, drop: float, attn_drop: float, drop_path: Sequence[float], downsample: bool):
        super().__init__()
        self.ws, self.shift = window_size, window_size // 2
        self.blocks = nn.ModuleList([
            SwinBlock(dim, num_heads, window_size, 0 if i % 2 == 0 else window_size // 2, mlp_ratio, qkv_bias,
                      drop, attn_drop, drop_path[i]) for i in range(depth)])
        self.downsample = PatchMerging(dim) if downsample else None

    def shift_mask(self, h: int, w: int, device) -> torch.Tensor:
        """(nW, N, N) additive mask: 0 inside a region of the rolled image, -100 across regions."""
        hp, wp = -(-h // self.ws) * self.ws, -(-w // self.ws) * self.ws
        region = torch.zeros(1, hp, wp, 1, device=device)
        cuts = (slice(0, -self.ws), slice(-self.ws, -self.shift), slice(-self.shift, None))
        label = 0
        for hs in cuts:
            for wsl in cuts:
                region[:, hs, wsl, :] = label
                label += 1
        win = window_partition(region, self.ws).squeeze(-1)               # (nW, N)
        diff = win[:, None, :] - win[:, :, None]
        return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)

    def forward(self, x: torch.Tensor, h: int, w: int):
        mask = self.shift_mask(h, w, x.device).to(x.dtype)
        for blk in self.blocks:
            x = blk(x, h, w, mask)
        if self.downsample is None:
            return x, x, h, w
        return x, self.downsample(x, h, w), (h + 1) // 2, (w + 1) // 2


@BACKBONES.register_module()
class SwinTransformerV1(nn.Module):
    """Swin Transformer backbone (dense variant, see module docstring). Defaults build Swin-B window 12.

    Args:
        pretrained: local path of ImageNet weights in the original Microsoft format
            (``swin_base_patch4_window12_384_22kto1k.pth``, state_dict under ``'model'``). Classification-only
            keys (``head.*``, final ``norm.*``, ``attn_mask``) are ignored, ``relative_position_index`` is
            recomputed; ``norm0..3`` are new (like the official ``strict=False`` load). Never downloads.
            ``'none'``: random init on purpose (None: random init too, refused by the training stages).
    """

    def __init__(self, embed_dim: int = 128, depths: Sequence[int] = (2, 2, 18, 2),
                 num_heads: Sequence[int] = (4, 8, 16, 32), window_size: int = 12, patch_size: int = 4,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.2, pretrained: Optional[str] = None):
        super().__init__()
        self.patch_size = patch_size
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, embed_dim, patch_size, patch_size)
        self.patch_embed.norm = nn.LayerNorm(embed_dim)
        self.pos_drop = nn.Dropout(drop_rate)
        # on the CPU: the model can then be built under a 'meta' default device
        dpr = torch.linspace(0, drop_path_rate, sum(depths), device='cpu').tolist()
        self.layers = nn.ModuleList()
        n = len(depths)
        for i in range(n):
            self.layers.append(SwinStage(embed_dim * 2 ** i, depths[i], num_heads[i], window_size, mlp_ratio,
                                         qkv_bias, drop_rate, attn_drop_rate,
                                         dpr[sum(depths[:i]):sum(depths[:i + 1])], downsample=i < n - 1))
        self.num_features = [embed_dim * 2 ** i for i in range(n)]
        for i in range(n):
            self.add_module(f'norm{i}', nn.LayerNorm(self.num_features[i]))
        self.out_channels = [embed_dim] + self.num_features
        self.output_stride = patch_size * 2 ** (n - 1)
        self.apply(self._init_weights)
        if weights_source(pretrained):
            self.load_pretrained(pretrained)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def load_pretrained(self, path: str) -> None:
        from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, \
            strip_prefix
        sd = strip_prefix(extract_state_dict(load_checkpoint_file(path), path))
        sd = {k: v for k, v in sd.items()
              if not (k.startswith(('head.', 'norm.')) or k.endswith(('attn_mask', 'relative_position_index')))}
        own = self.state_dict()
        unexpected = [k for k in sd if k not in own]
        if unexpected:
            raise RuntimeError(f'{path}: not Swin weights in the original layout; unexpected keys '
                               f'{unexpected[:8]}')
        load_state_dict_checked(self, sd, path, strict=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        ps = self.patch_size
        h, w = x.shape[-2:]
        x = F.pad(x, (0, (-w) % ps, 0, (-h) % ps))
        x = self.patch_embed.proj(x)
        b, c, h, w = x.shape
        x = self.patch_embed.norm(x.flatten(2).transpose(1, 2))
        outs = [x.transpose(1, 2).reshape(b, c, h, w)]
        x = self.pos_drop(x)
        for i, stage in enumerate(self.layers):
            y, x, nh, nw = stage(x, h, w)
            y = getattr(self, f'norm{i}')(y)
            outs.append(y.view(b, h, w, -1).permute(0, 3, 1, 2).contiguous())
            h, w = nh, nw
        return outs
