"""Seeds for everything random."""
from __future__ import annotations

import random

import numpy as np
import torch


def set_seed(seed: int, deterministic: bool = True) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def sample_rng(*keys: int) -> np.random.Generator:
    """A numpy RNG that depends only on ``keys`` (seed, epoch, index): same augmentation whatever the
    worker, rank or resume point."""
    return np.random.default_rng([int(k) & 0xFFFFFFFF for k in keys])
