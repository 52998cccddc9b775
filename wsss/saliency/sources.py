"""Saliency sources, chosen in the config (``saliency_source=dict(type=...)``).

The engine builds the source with the top-level config keys as defaults, so
``--cfg-options saliency_dir=saliency/poor`` swaps the maps from the command line.
A source answers ``load(image_id, (H, W)) -> uint8 HxW`` or ``None`` (no saliency).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from wsss.registry import SALIENCY_SOURCES


@SALIENCY_SOURCES.register_module()
class NoSaliency:
    """No saliency (plain CAM, SeeNet alone)."""

    def __init__(self, **kwargs):
        pass

    def load(self, image_id: str, size_hw: tuple[int, int]) -> None:
        return None

    def __repr__(self) -> str:
        return 'NoSaliency()'


@SALIENCY_SOURCES.register_module()
class FolderSaliency:
    """8-bit maps in ``<data_root>/<saliency_dir>/<id>.png`` (or an absolute ``saliency_dir``), image-sized.

    A missing map or a map of the wrong size is an error naming the file: training never silently
    falls back to zeros.
    """

    def __init__(self, data_root: str, saliency_dir: str, **kwargs):
        d = Path(saliency_dir)
        self.dir = d if d.is_absolute() else Path(data_root) / d
        if not self.dir.is_dir():
            raise FileNotFoundError(f'saliency folder not found: {self.dir} (set saliency_dir=...)')

    def load(self, image_id: str, size_hw: tuple[int, int]) -> np.ndarray:
        path = self.dir / f'{image_id}.png'
        if not path.is_file():
            raise FileNotFoundError(f'saliency map missing: {path}')
        with Image.open(path) as img:
            arr = np.asarray(img.convert('L'))
        if arr.shape != tuple(size_hw):
            raise ValueError(f'saliency map {path} has size {arr.shape[1]}x{arr.shape[0]} (WxH) but the image is '
                             f'{size_hw[1]}x{size_hw[0]}')
        return arr

    def __repr__(self) -> str:
        return f'FolderSaliency({self.dir})'


def build_saliency_source(cfg) -> Optional[object]:
    """Build ``cfg.saliency_source`` with ``data_root`` / ``saliency_dir`` from the top level of the config."""
    src = cfg.get('saliency_source', None)
    if src is None:
        return None
    defaults = {'data_root': cfg.get('data_root'), 'saliency_dir': cfg.get('saliency_dir')}
    source = SALIENCY_SOURCES.build(dict(src), default_args={k: v for k, v in defaults.items() if v is not None})
    return None if isinstance(source, NoSaliency) else source
