"""SeeNet building blocks: attention map, ternary mask, C-ReLU, background mask, test-time fusion.

Hou, Jiang, Wei, Cheng. *Self-Erasing Network for Integral Object Attention*, NeurIPS 2018 (arXiv 1810.09821).
Official code: ``houqb/SeeNet`` (Caffe, inference only: ``crelu_layer.py``, ``deploy_seenet.prototxt``).

Symbols (all at CAM/feature resolution h×w):

- ``A_k``  (B, C, h, w): S_A's non-negative class maps (plain SeeNet: ``max(score_k, 0)``;
  EPS+SeeNet: the softmax foreground probabilities).
- ``M = max_{k: y_k=1} minmax(A_k)`` (B, 1, h, w): the attention map fed to C-ReLU, in [0, 1].
- ``δ_h = 0.7 · max(M)``, ``δ_l = 0.05 · max(M)`` (paper, implementation
  details: "0.7 and 0.05 times of the maximum value").
- Ternary mask ``T_A = 0`` where ``M > δ_h`` (attention zone, erased), ``−1`` where ``M < δ_l`` (background
  zone), ``1`` elsewhere (potential zone).
- C-ReLU: ``C-ReLU(x) = max(x, 0) · T_A`` (paper, C-ReLU), input of S_B.
- Background mask of S_C: ``B = 1[M < (δ_h + δ_l) / 2]`` (the paper's single threshold for S_C),
  input ``max(x, 0) · B``.

**Deviation** (official Caffe layer vs. paper): ``deploy_seenet.prototxt`` sets ``maxt=0.8, mint=0.0`` (absolute
thresholds on the normalised map: no background zone at all at test time), and its hand-written backward zeroes
the erased-zone gradient of channel 0 only. We use the paper's 0.7 / 0.05 (configurable) and autograd, whose
gradient is zero in the erased zone and negated in the background zone for every channel.
"""
from __future__ import annotations

import torch

from wsss.utils.imaging import MINMAX_EPS as NORM_EPS  # official C-ReLU layer and test notebook: 1e-8
from wsss.utils.imaging import minmax_normalize


def seenet_attention(class_maps: torch.Tensor, label: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """``M = max_{k: y_k=1} minmax(max(A_k, 0))`` (B, 1, h, w); 0 where an image has no present class.

    As the official C-ReLU layer: clamp at 0, min-max normalise each ground-truth class, set the others to 0,
    max over classes. The result is detached (the mask carries no gradient).
    """
    a = minmax_normalize(class_maps.detach().clamp_min(0), eps)
    a = a * (label.to(a.dtype) > 0.5).to(a.dtype)[:, :, None, None]
    return a.max(1, keepdim=True).values


def _rel_thresholds(att: torch.Tensor, delta_h: float, delta_l: float):
    peak = att.flatten(1).max(-1).values[:, None, None, None]              # max(M) per image
    return delta_h * peak, delta_l * peak


def ternary_mask(att: torch.Tensor, delta_h: float = 0.7, delta_l: float = 0.05) -> torch.Tensor:
    """Ternary mask T_A: 0 (M > δ_h, erased), −1 (M < δ_l, background), 1 (potential zone); same dtype as M."""
    hi, lo = _rel_thresholds(att, delta_h, delta_l)
    one = torch.ones_like(att)
    return torch.where(att > hi, torch.zeros_like(att), torch.where(att < lo, -one, one))


def c_relu(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Conditionally reversed linear unit: ``max(x, 0) · T_A`` with T_A broadcast over channels."""
    return torch.relu(x) * mask.detach()


def background_mask(att: torch.Tensor, delta_h: float = 0.7, delta_l: float = 0.05) -> torch.Tensor:
    """S_C's binary background mask: 1 where ``M < (δ_h + δ_l) / 2`` (relative to max(M)), else 0."""
    hi, lo = _rel_thresholds(att, delta_h, delta_l)
    return (att < (hi + lo) / 2).to(att.dtype)


def fuse_max(maps_a: torch.Tensor, maps_b: torch.Tensor, eps: float = NORM_EPS) -> torch.Tensor:
    """Test-time fusion ``M_F = max(minmax(max(M_A, 0)), minmax(max(M_B, 0)))`` per class (B, C, h, w).

    **Deviation** (official notebook): it normalises with ``max(x, 0) / (max + 1e-8)`` after a bicubic resize to
    the image size; ours is min-max at feature resolution (identical whenever a clamped map reaches 0).
    """
    return torch.maximum(minmax_normalize(maps_a.clamp_min(0), eps), minmax_normalize(maps_b.clamp_min(0), eps))
