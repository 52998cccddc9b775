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

from wsss.engine.config_keys import Built
from wsss.registry import CONFIG_SECTIONS, SALIENCY_SOURCES


@SALIENCY_SOURCES.register_module()
class NoSaliency:
    """No saliency (plain CAM, SeeNet alone). Takes (and ignores) the top-level defaults every source is given."""

    def __init__(self, **kwargs):
        pass

    def load(self, image_id: str, size_hw: tuple[int, int]) -> None:
        return None

    def __repr__(self) -> str:
        return 'NoSaliency()'


@SALIENCY_SOURCES.register_module()
class FolderSaliency:
    """8-bit maps in ``<data_root>/<saliency_dir>/<id>.png`` (or an absolute ``saliency_dir``), image-sized.

    A missing, unreadable or wrong-size map is an error naming the file: training never silently falls back
    to zeros. (No ``**kwargs``: a misspelt argument in ``saliency_source=dict(...)`` is refused.)
    """

    def __init__(self, data_root: str, saliency_dir: str):
        self.dir = self.folder(data_root, saliency_dir)
        if not self.dir.is_dir():
            raise FileNotFoundError(f'saliency folder not found: {self.dir} (set saliency_dir=...)')

    @staticmethod
    def folder(data_root: str, saliency_dir: str) -> Path:
        """``<data_root>/<saliency_dir>``, or ``saliency_dir`` when absolute."""
        d = Path(saliency_dir)
        return d if d.is_absolute() else Path(data_root) / d

    def load(self, image_id: str, size_hw: tuple[int, int]) -> np.ndarray:
        path = self.dir / f'{image_id}.png'
        if not path.is_file():
            raise FileNotFoundError(f'saliency map missing: {path}')
        try:
            with Image.open(path) as img:
                arr = np.asarray(img.convert('L'))
        except (OSError, ValueError, SyntaxError) as e:
            raise ValueError(f'{path}: unreadable saliency map ({type(e).__name__}: {e})') from e
        if arr.shape != tuple(size_hw):
            raise ValueError(f'saliency map {path} has size {arr.shape[1]}x{arr.shape[0]} (WxH) but the image is '
                             f'{size_hw[1]}x{size_hw[0]}')
        return arr

    def __repr__(self) -> str:
        return f'FolderSaliency({self.dir})'


def _source_args(cfg) -> tuple[Optional[dict], dict]:
    src = cfg.get('saliency_source', None)
    defaults = {'data_root': cfg.get('data_root'), 'saliency_dir': cfg.get('saliency_dir')}
    return (None if src is None else dict(src)), {k: v for k, v in defaults.items() if v is not None}


def build_saliency_source(cfg) -> Optional[object]:
    """Build ``cfg.saliency_source`` with ``data_root`` / ``saliency_dir`` from the top level of the config."""
    src, defaults = _source_args(cfg)
    if src is None:
        return None
    source = SALIENCY_SOURCES.build(src, default_args=defaults)
    return None if isinstance(source, NoSaliency) else source


def saliency_folder(cfg) -> tuple[Optional[Path], str]:
    """``(folder, description)`` of the maps the config's saliency source reads, without building it (the data
    checks list a missing folder with the other problems): the folder of a ``FolderSaliency``, None otherwise."""
    src, defaults = _source_args(cfg)
    if src is None:
        return None, 'no saliency_source in the config'
    cls = SALIENCY_SOURCES.get(src['type']) if isinstance(src.get('type'), str) else src.get('type')
    if cls is None or not issubclass(cls, FolderSaliency):
        return None, f'saliency source {src.get("type")} (its files are not checked)'
    args = {**defaults, **{k: v for k, v in src.items() if k != 'type'}}
    if not args.get('saliency_dir') or not args.get('data_root'):
        return None, 'FolderSaliency without saliency_dir'
    return FolderSaliency.folder(args['data_root'], args['saliency_dir']), 'FolderSaliency'


@CONFIG_SECTIONS.register_module()
def saliency_sections(cfg) -> dict:
    """``saliency_source`` (a ``SALIENCY_SOURCES`` config) and the top-level ``saliency_dir`` it defaults to."""
    return {'saliency_source': Built(SALIENCY_SOURCES), 'saliency_dir': None}
