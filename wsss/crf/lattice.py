"""Permutohedral lattice (Adams, Baek & Davis, "Fast High-Dimensional Filtering Using the Permutohedral Lattice",
Eurographics 2010) in PyTorch tensor ops, with the arithmetic of Krähenbühl's ``permutohedral.cpp`` (pydensecrf).

The lattice approximates a Gaussian filter ``out_i = Σ_j exp(-½‖f_i − f_j‖²) in_j`` over d-dimensional features
``f`` (already divided by their standard deviations) in three steps:

* **splat**: each point adds ``in · b`` to the d+1 vertices of its enclosing simplex (barycentric weights ``b``);
* **blur**: along each of the d+1 lattice directions ``j`` (in order 0..d, reversed for the transpose)
  ``v ← v + ½ (v[n₁] + v[n₂])``, ``n₁, n₂`` the two neighbours along ``j`` (a missing neighbour reads 0);
* **slice**: ``out_i = α Σ_k b_ik v[o_ik]``, ``α = 1 / (1 + 2^-d)``, no homogeneous-coordinate division.

Construction, as ``Permutohedral::init`` (SSE path, the one the x86 wheel builds): the elevation scale per
dimension ``i`` is ``sqrt(2/3)·(d+1) / sqrt((i+1)(i+2))`` (Adams et al. p. 5–6), the closest remainder-0 point
by round-half-to-even, the ranks of the differences, the barycentric weights (d+2 entries, the last folded
into the first) and the integer vertex keys (first d coordinates).

**Deviation** (representation only, same lattice): the C++ hash table is replaced by ``unique`` over
mixed-radix int64 codes of the keys (lattice points in sorted-code order instead of insertion order), and the
blur neighbours are found by ``searchsorted``; summation orders differ from the C++ loops, so results agree to
float32 rounding, not bit for bit.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ['PermutohedralLattice']


def _f32(x: float) -> float:
    """``x`` rounded to float32 (the C++ stores these constants as ``float``)."""
    return float(np.float32(x))


class PermutohedralLattice:
    """The lattice of ``features`` ``(N, d)`` (float32; any device). ``compute(values)`` filters ``(N, C)``.

    ``group`` (optional, int ``(N,)``): points of different groups (images) never interact: the group id is one
    more key coordinate, so several images share one build and one filter call, each exactly as on its own.

    Attributes: ``offsets`` ``(N, d+1)`` lattice-point index of each simplex vertex, ``weights`` ``(N, d+1)``
    barycentric weights, ``neighbours`` ``(d+1, 2, M)`` blur neighbours (``M`` = a missing one), ``M``.
    """

    def __init__(self, features: torch.Tensor, group: torch.Tensor | None = None):
        if features.ndim != 2:
            raise ValueError(f'features must be (N, d), got {tuple(features.shape)}')
        f = features.to(torch.float32)
        n, d = f.shape
        self.d = d
        dev = f.device
        inv_dp1 = _f32(1.0 / (d + 1))
        inv_std_dev = _f32(math.sqrt(2.0 / 3.0) * (d + 1))           # float inv_std_dev in the C++
        scale = [_f32(1.0 / math.sqrt((i + 2) * (i + 1)) * inv_std_dev) for i in range(d)]

        # Elevate onto the hyperplane Σ = 0 of R^{d+1}: y = E f (Adams et al. p. 5), the C++ loop order
        elevated = [None] * (d + 1)
        sm = torch.zeros(n, dtype=torch.float32, device=dev)
        for j in range(d, 0, -1):
            cf = f[:, j - 1] * scale[j - 1]
            elevated[j] = sm - float(j) * cf
            sm = sm + cf
        elevated[0] = sm
        el = torch.stack(elevated, 1)                                   # (N, d+1)

        # Closest remainder-0 point (round half to even, as _mm_round_ps / cvtps_epi32)
        v = torch.round(el * inv_dp1)
        rem0 = v * float(d + 1)
        total = v.sum(1).to(torch.int64)                                # integers: exact in any order

        # Rank of each coordinate's difference (ties: the earlier index ranks lower)
        diff = el - rem0
        rank = torch.zeros(n, d + 1, dtype=torch.int64, device=dev)
        for i in range(d):
            for j in range(i + 1, d + 1):
                c = (diff[:, i] < diff[:, j]).to(torch.int64)
                rank[:, i] += c
                rank[:, j] += 1 - c
        # Bring the point back onto the plane (Σ rem0 ≠ 0)
        rank = rank + total[:, None]
        shift = (rank < 0).to(torch.int64) - (rank >= d + 1).to(torch.int64)
        rank = rank + (d + 1) * shift
        rem0 = rem0 + float(d + 1) * shift.to(torch.float32)

        # Barycentric coordinates (Adams et al. p. 10): d+2 entries, the last folded into the first
        bv = (el - rem0) * inv_dp1
        p = d - rank
        bary = torch.zeros(n, d + 2, dtype=torch.float32, device=dev)
        bary.scatter_add_(1, p, bv)                                     # each slot: one +v and one −v (exact)
        bary.scatter_add_(1, p + 1, -bv)
        bary[:, 0] = bary[:, 0] + (1.0 + bary[:, d + 1])
        self.weights = bary[:, :d + 1].contiguous()

        # Vertex keys: rem0 + canonical[r][rank] (first d coordinates), r = 0..d
        r = torch.arange(d + 1, device=dev)
        canonical = torch.where(r[None, :] <= d - r[:, None], r[:, None], r[:, None] - (d + 1))   # [r, rank]
        rem0_i = rem0[:, :d].to(torch.int64)
        keys = rem0_i[:, None, :] + canonical[:, rank[:, :d]].permute(1, 0, 2)                  # (N, d+1, d)
        if group is not None:                      # the image id as key coordinate d (never blurred along)
            g = group.to(device=dev, dtype=torch.int64)[:, None, None].expand(n, d + 1, 1)
            keys = torch.cat([keys, g], 2)
        kd = keys.shape[2]

        # Lattice points: unique over mixed-radix codes of the keys (the hash table of the C++)
        flat = keys.reshape(-1, kd)
        self._kmin = flat.amin(0)
        self._span = flat.amax(0) - self._kmin + 1
        strides = [1]
        for s in self._span.tolist()[:0:-1]:
            strides.insert(0, strides[0] * int(s))
        if strides[0] * int(self._span[0]) >= 2 ** 62:
            raise ValueError('lattice keys span too large a range for int64 codes')
        self._strides = torch.tensor(strides, dtype=torch.int64, device=dev)
        codes, inverse = torch.unique(self._code(flat), sorted=True, return_inverse=True)
        self.codes = codes
        self.M = int(codes.numel())
        self.offsets = inverse.reshape(n, d + 1)

        # Blur neighbours along each direction j: key − 1 (key[j] + d) and key + 1 (key[j] − d)
        ukeys = self._decode(codes)                                     # (M, kd)
        nbrs = []
        for j in range(d + 1):
            n1, n2 = ukeys - 1, ukeys + 1
            n1[:, d:], n2[:, d:] = ukeys[:, d:], ukeys[:, d:]         # same group
            if j < d:
                n1[:, j] = ukeys[:, j] + d
                n2[:, j] = ukeys[:, j] - d
            nbrs.append(torch.stack([self._find(n1), self._find(n2)]))
        self.neighbours = torch.stack(nbrs)                            # (d+1, 2, M)

    def _code(self, keys: torch.Tensor) -> torch.Tensor:
        return ((keys - self._kmin) * self._strides).sum(-1)

    def _decode(self, codes: torch.Tensor) -> torch.Tensor:
        rest = codes.clone()
        out = []
        for s in self._strides.tolist():
            out.append(rest // s)
            rest = rest % s
        return torch.stack(out, 1) + self._kmin

    def _find(self, keys: torch.Tensor) -> torch.Tensor:
        """Index of each key among the lattice points, ``M`` where there is none."""
        rel = keys - self._kmin
        inside = ((rel >= 0) & (rel < self._span)).all(1)
        code = self._code(keys)
        pos = torch.searchsorted(self.codes, code).clamp_(max=self.M - 1)
        found = inside & (self.codes[pos] == code)
        return torch.where(found, pos, torch.full_like(pos, self.M))

    def splat(self, values: torch.Tensor) -> torch.Tensor:
        """``(N, C)`` -> ``(M + 1, C)`` lattice values (row ``M`` stays 0: the missing neighbour)."""
        c = values.shape[1]
        out = values.new_zeros(self.M + 1, c)
        contrib = self.weights[:, :, None] * values[:, None, :]        # w · in, pixel-major as the C++ loop
        out.index_add_(0, self.offsets.reshape(-1), contrib.reshape(-1, c))
        return out

    def blur(self, lat: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        """``v + ½ (v[n₁] + v[n₂])`` along directions 0..d (d..0 with ``reverse``)."""
        order = range(self.d, -1, -1) if reverse else range(self.d + 1)
        m = self.M
        for j in order:
            n1, n2 = self.neighbours[j]
            nb = lat.index_select(0, n1).add_(lat.index_select(0, n2))
            out = torch.empty_like(lat)
            torch.add(lat[:m], nb, alpha=0.5, out=out[:m])     # ½·nb is exact: one rounding, as v + 0.5*(n1+n2)
            out[m] = 0
            lat = out
        return lat

    def slice(self, lat: torch.Tensor) -> torch.Tensor:
        """``α Σ_k b_ik v[o_ik]`` -> ``(N, C)`` (the C++ multiplies in the SSE order ``(b·α)·v`` for C > 2,
        ``(b·v)·α`` for C ≤ 2)."""
        alpha = _f32(1.0 / (1.0 + 2.0 ** (-self.d)))
        c = lat.shape[1]
        out = lat.new_zeros(self.offsets.shape[0], c)
        for k in range(self.d + 1):
            w = self.weights[:, k:k + 1]
            v = lat.index_select(0, self.offsets[:, k])
            out = out + ((w * alpha) * v if c > 2 else (w * v) * alpha)
        return out

    def compute(self, values: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        """Filter ``values`` ``(N, C)``: splat, blur, slice (``Permutohedral::compute``)."""
        return self.slice(self.blur(self.splat(values.to(torch.float32)), reverse))
