"""Shared fixtures: a tiny data set in the official PASCAL VOC 2012 on-disk layout."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wsss.utils.io import save_gray_png, save_label_png


def write_tiny_voc(root: Path, n_train: int = 3, n_val: int = 2, size=(40, 56), seed: int = 0) -> Path:
    """JPEGImages/*.jpg, SegmentationClass/*.png (palette, 255 borders), ImageSets lists, saliency/good."""
    rng = np.random.default_rng(seed)
    h, w = size
    ids = {'train': [f'2007_{i:06d}' for i in range(n_train)],
           'val': [f'2008_{i:06d}' for i in range(n_val)]}
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True, exist_ok=True)
    (root / 'JPEGImages').mkdir(parents=True, exist_ok=True)
    for split, names in ids.items():
        (root / 'ImageSets' / 'Segmentation' / f'{split}.txt').write_text('\n'.join(names) + '\n')
        for k, name in enumerate(names):
            cls = 1 + (k * 7 + (split == 'val') * 3) % 20
            mask = np.zeros((h, w), np.uint8)
            y0, x0 = int(rng.integers(2, h // 3)), int(rng.integers(2, w // 3))
            mask[y0:y0 + h // 2, x0:x0 + w // 2] = cls
            border = np.zeros_like(mask, bool)  # VOC-style 255 band around the object
            inner = mask > 0
            grown = inner.copy()
            grown[1:] |= inner[:-1]
            grown[:-1] |= inner[1:]
            grown[:, 1:] |= inner[:, :-1]
            grown[:, :-1] |= inner[:, 1:]
            border = grown & ~inner
            mask[border] = 255
            img = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
            img[inner] = np.array([40 + 10 * cls, 200 - 5 * cls, 120], np.uint8)
            Image.fromarray(img).save(root / 'JPEGImages' / f'{name}.jpg', quality=95)
            save_label_png(root / 'SegmentationClass' / f'{name}.png', mask)
            save_gray_png(root / 'saliency' / 'good' / f'{name}.png', (inner * 255).astype(np.uint8))
    return root


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per CPU this process may use (not pytest-xdist's physical-core count, which psutil
    may report as half of a VM's vCPUs), at most 8 (a worker holds a few GB while a Swin-L test runs)."""
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1))


def pytest_configure(config):
    """Under pytest-xdist (``-n N``) each worker, and every process it starts, uses one intra-op thread: the
    workers already fill the cores, and OpenMP threads competing across workers stall (see ``one_thread``)."""
    if os.environ.get('PYTEST_XDIST_WORKER'):
        os.environ['OMP_NUM_THREADS'] = os.environ['MKL_NUM_THREADS'] = '1'
        import torch
        torch.set_num_threads(1)


@pytest.fixture
def one_thread():
    """One intra-op thread (modules opt in with ``pytestmark = pytest.mark.usefixtures('one_thread')``): on a
    shared 2-core machine, 2 OpenMP threads competing with other processes made small-tensor tests 70-100x
    slower (spinning threads waiting for a descheduled peer)."""
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def tiny_voc(tmp_path) -> Path:
    return write_tiny_voc(tmp_path / 'VOC2012')
