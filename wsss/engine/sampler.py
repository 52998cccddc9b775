"""Iteration-based batch sampler, deterministic, rank-aware and resumable.

Global stream: epoch ``e`` is a permutation of the data set drawn from ``(seed, e)``; iteration ``i``
uses positions ``[i*B, (i+1)*B)`` of the concatenated stream (B = global batch); rank ``r`` of ``W``
takes the contiguous slice ``[r*B/W, (r+1)*B/W)``. Each item is ``(index, sample_seed)`` with
``sample_seed`` derived from (seed, epoch), so augmentation does not depend on W, workers or resume.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np


class IterBatchSampler:
    def __init__(self, num_samples: int, global_batch: int, max_iters: int, seed: int = 0,
                 rank: int = 0, world_size: int = 1, start_iter: int = 0, shuffle: bool = True):
        if global_batch % world_size:
            raise ValueError(f'global batch size {global_batch} is not divisible by {world_size} processes')
        self.n, self.B, self.max_iters = num_samples, global_batch, max_iters
        self.seed, self.rank, self.world, self.start_iter, self.shuffle = seed, rank, world_size, start_iter, shuffle
        self.local = global_batch // world_size

    def _epoch_perm(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([self.seed & 0xFFFFFFFF, epoch]).permutation(self.n)

    def batch(self, it: int) -> list[tuple[int, int]]:
        lo = it * self.B + self.rank * self.local
        out, cache = [], {}
        for pos in range(lo, lo + self.local):
            epoch, k = divmod(pos, self.n)
            if epoch not in cache:
                cache[epoch] = self._epoch_perm(epoch)
            out.append((int(cache[epoch][k]), (self.seed * 1_000_003 + epoch) & 0xFFFFFFFF))
        return out

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for it in range(self.start_iter, self.max_iters):
            yield self.batch(it)

    def __len__(self) -> int:
        return max(0, self.max_iters - self.start_iter)
