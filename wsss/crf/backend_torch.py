"""Dense-CRF mean field (Krähenbühl & Koltun, "Efficient Inference in Fully Connected CRFs with Gaussian Edge
Potentials", NIPS 2011, Algorithm 1) in PyTorch, with pydensecrf's arithmetic (``densecrf.cpp``, ``pairwise.cpp``).

Energy ``E(x) = Σ_i U_i(x_i) + Σ_{i<j} μ(x_i, x_j) Σ_m w_m k_m(f_i, f_j)`` with Potts ``μ = [x_i ≠ x_j]`` and
two kernels, both filtered through the permutohedral lattice (:mod:`wsss.crf.lattice`):

* Gaussian (smoothness): ``f = (x / sxy, y / sxy)`` (x = column, y = row), weight ``pos_w``;
* bilateral (appearance): ``f = (x / sxy, y / sxy, R / srgb, G / srgb, B / srgb)`` (uint8 values), ``bi_w``.

Mean field (paper Eq. 4 with the Potts compatibility): ``Q⁰ = softmax(−U)``; each iteration
``Q ← softmax(−U + Σ_m w_m · n_m ⊙ K_m(n_m ⊙ Q))``, ``K_m`` the lattice filter and
``n_m = 1 / sqrt(K_m 1 + 1e-20)`` (NORMALIZE_SYMMETRIC, pydensecrf's default). In the code: ``U`` (N, K) the
unary ``−log(clip(p))``, ``Q`` (N, K) the marginals, pixels in row-major order.

**Deviation** from the paper (as pydensecrf): the lattice filter includes the pixel itself (no ``i ≠ j``), and the
Potts term is applied as ``−w · (filtered Q)`` (similar neighbours raise the same label) instead of
``w · Σ_{l'≠l}``; the two give the same softmax up to a per-pixel constant.
"""
from __future__ import annotations

import numpy as np
import torch

from .lattice import PermutohedralLattice
from .params import CRFParams


def pixel_features(image: torch.Tensor, sxy: float, srgb: float | None = None) -> torch.Tensor:
    """``(H·W, 2)`` positions ``(x/sxy, y/sxy)``, plus ``RGB/srgb`` columns when ``srgb`` is given (``(H·W, 5)``);
    float32 divisions as ``DenseCRF2D::addPairwise*``."""
    h, w = image.shape[:2]
    dev = image.device
    ys, xs = torch.meshgrid(torch.arange(h, device=dev, dtype=torch.float32),
                            torch.arange(w, device=dev, dtype=torch.float32), indexing='ij')
    cols = [xs.reshape(-1) / np.float32(sxy).item(), ys.reshape(-1) / np.float32(sxy).item()]
    if srgb is not None:
        rgb = image.reshape(-1, 3).to(torch.float32)
        cols += [rgb[:, c] / np.float32(srgb).item() for c in range(3)]
    return torch.stack(cols, 1)


class _Kernel:
    """One pairwise term: lattice, symmetric normalisation ``n``, Potts weight ``w`` (``group``: image ids)."""

    def __init__(self, features: torch.Tensor, weight: float, group: torch.Tensor | None = None):
        self.lattice = PermutohedralLattice(features, group)
        ones = features.new_ones(features.shape[0], 1)
        norm = self.lattice.compute(ones)[:, 0].to(torch.float64)
        self.norm = (1.0 / torch.sqrt(norm + 1e-20)).to(torch.float32)[:, None]
        self.weight = np.float32(weight).item()

    def message(self, q: torch.Tensor) -> torch.Tensor:
        """Potts compatibility applied to the normalised filter: ``−w · n ⊙ K(n ⊙ Q)``."""
        return -self.weight * (self.norm * self.lattice.compute(q * self.norm))


def mean_field(unary: torch.Tensor, kernels: list, iterations: int) -> torch.Tensor:
    """``Q = softmax(−U − Σ_m message_m(Q))`` ``iterations`` times from ``Q⁰ = softmax(−U)``; ``unary`` (N, K)."""
    q = torch.softmax(-unary, 1)
    for _ in range(int(iterations)):
        tmp = -unary
        for k in kernels:
            tmp = tmp - k.message(q)
        q = torch.softmax(tmp, 1)
    return q


def dense_crf_torch_many(images: list, unaries: list, params: CRFParams,
                         device: torch.device | str = 'cpu') -> list:
    """Marginals ``[(K, H, W)]`` float32 of the dense CRF of each image; ``images`` uint8 ``(H, W, 3)``,
    ``unaries`` float32 ``(K, H·W)`` (``−log(clip(p))``, the array pydensecrf's ``setUnaryEnergy`` gets), same K.
    Several images go through one lattice build and one filter call per kernel and iteration: the image index
    is one more lattice key, so each result equals the single-image one (up to float32 summation order)."""
    k = unaries[0].shape[0]
    if any(u.shape[0] != k for u in unaries):
        raise ValueError('all images need the same number of labels')
    imgs = [torch.from_numpy(np.ascontiguousarray(im)).to(device) for im in images]
    group = None
    if len(imgs) > 1:
        group = torch.cat([torch.full((im.shape[0] * im.shape[1],), i, dtype=torch.int64, device=device)
                           for i, im in enumerate(imgs)])
    u = torch.cat([torch.from_numpy(np.ascontiguousarray(x.T)).to(device) for x in unaries])
    pos = torch.cat([pixel_features(im, params.pos_xy_std) for im in imgs])
    bil = torch.cat([pixel_features(im, params.bi_xy_std, params.bi_rgb_std) for im in imgs])
    kernels = [_Kernel(pos, params.pos_w, group), _Kernel(bil, params.bi_w, group)]
    q = mean_field(u, kernels, params.iterations).cpu()
    out, start = [], 0
    for im in imgs:
        h, w = im.shape[:2]
        out.append(q[start:start + h * w].T.reshape(k, h, w).numpy())
        start += h * w
    return out
