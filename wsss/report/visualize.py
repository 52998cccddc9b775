"""Qualitative grids: one row per image, one column per available artefact (Pillow only).

Columns, in order, each present only when its source is given / exists:
``image | CAM (heat map over the image) | saliency | pseudo-label | prediction | GT``.
Label maps use the VOC palette with 255 (ignore) in white; CAMs use a jet colour map blended
onto the image.

CAM files (``<cam_dir>/<id>.npy|.npz|.png``): a PNG is a grey map; a ``.npy``/``.npz`` may hold an
``(H, W)`` map, a ``(C, H, W)`` stack (max over C is shown) or a pickled dict -- ``{class: map}``
(EPS ``--cam_npy``) or psa/IRN style ``{'high_res'|'cam'|'cams': stack, 'keys': ...}``. Maps are
resized to the image and divided by their maximum. Pickled ``.npy`` dicts are loaded with
``allow_pickle=True``: only visualise files produced by this pipeline.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from wsss.utils.voc_meta import VOC_PALETTE
from wsss.utils.io import atomic_save_image

__all__ = ['colorize_label', 'jet', 'load_cam', 'make_grid', 'visualize_ids', 'save_visualization']

TILE = 160
PAD = 4
HEADER = 14
BACKGROUND = (240, 240, 240)

_PALETTE = np.array(VOC_PALETTE, dtype=np.uint8).reshape(256, 3).copy()
_PALETTE[255] = (255, 255, 255)


def colorize_label(label: np.ndarray) -> np.ndarray:
    """(H, W) label ids -> (H, W, 3) uint8 VOC colours, 255 (ignore) white."""
    return _PALETTE[np.asarray(label, dtype=np.uint8)]


def jet(x: np.ndarray) -> np.ndarray:
    """(H, W) values in [0, 1] -> (H, W, 3) uint8 jet colours."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0, 1)[..., None]
    rgb = np.clip(1.5 - np.abs(4 * x - np.array([3, 2, 1], np.float32)), 0, 1)
    return (rgb * 255 + 0.5).astype(np.uint8)


def _blend(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    return (a.astype(np.float32) * (1 - alpha) + b.astype(np.float32) * alpha + 0.5).astype(np.uint8)


def _stack_from_obj(obj, path: Path) -> np.ndarray:
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.ndim == 0:
        obj = obj.item()
    if isinstance(obj, dict):
        for key in ('high_res', 'cam', 'cams'):
            if key in obj:
                return np.asarray(obj[key], dtype=np.float32)
        maps = [np.asarray(v, dtype=np.float32) for v in obj.values()
                if isinstance(v, np.ndarray) and v.ndim >= 2]
        if not maps:
            raise ValueError(f'{path}: no CAM arrays in the dict (keys {list(obj)[:10]})')
        return np.stack([m if m.ndim == 2 else m.max(0) for m in maps])
    arr = np.asarray(obj, dtype=np.float32)
    if arr.ndim not in (2, 3):
        raise ValueError(f'{path}: expected a (H, W) or (C, H, W) CAM, got shape {arr.shape}')
    return arr


def load_cam(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """A CAM file -> (H, W) float32 in [0, 1] (max over classes, divided by its maximum).

    ``size`` = (H, W) of the image: the map is resized (bilinear) if it differs; a channel-last
    ``(H, W, C)`` array is recognised when ``size`` matches its first two dimensions.
    """
    path = Path(path)
    if path.suffix == '.png':
        with Image.open(path) as im:
            arr = np.asarray(im.convert('L'), dtype=np.float32)
    elif path.suffix == '.npz':
        with np.load(path, allow_pickle=False) as z:
            arr = _stack_from_obj({k: z[k] for k in z.files}, path)
    else:
        arr = _stack_from_obj(np.load(path, allow_pickle=True), path)
    if arr.ndim == 3:
        if size is not None and tuple(arr.shape[:2]) == tuple(size) and tuple(arr.shape[1:]) != tuple(size):
            arr = arr.max(axis=2)
        else:
            arr = arr.max(axis=0)
    arr = np.nan_to_num(np.maximum(arr, 0))
    if size is not None and arr.shape != tuple(size):
        arr = np.asarray(Image.fromarray(arr).resize((size[1], size[0]), Image.BILINEAR))
    m = float(arr.max())
    return arr / m if m > 0 else arr


def _fit(img: Image.Image, tile: int, nearest: bool) -> Image.Image:
    w, h = img.size
    s = tile / max(w, h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    img = img.resize((nw, nh), Image.NEAREST if nearest else Image.BILINEAR)
    canvas = Image.new('RGB', (tile, tile), BACKGROUND)
    canvas.paste(img, ((tile - nw) // 2, (tile - nh) // 2))
    return canvas


def make_grid(rows: Sequence[Sequence[Image.Image | None]], titles: Sequence[str] | None = None,
              tile: int = TILE, pad: int = PAD, nearest: Sequence[bool] | None = None,
              row_labels: Sequence[str] | None = None) -> Image.Image:
    """Grid of square tiles (aspect kept, letterboxed). ``None`` cells stay blank.

    Size: ``W = n_cols*tile + (n_cols+1)*pad``, ``H = header + n_rows*tile + (n_rows+1)*pad`` with
    ``header = 14`` when ``titles`` are given, else 0.
    """
    n_cols = max(len(r) for r in rows)
    header = HEADER if titles else 0
    W = n_cols * tile + (n_cols + 1) * pad
    H = header + len(rows) * tile + (len(rows) + 1) * pad
    grid = Image.new('RGB', (W, H), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    if titles:
        for j, t in enumerate(titles):
            draw.text((pad + j * (tile + pad) + 2, 1), str(t), fill=(0, 0, 0))
    for i, row in enumerate(rows):
        y = header + pad + i * (tile + pad)
        for j, cell in enumerate(row):
            x = pad + j * (tile + pad)
            if cell is None:
                grid.paste(Image.new('RGB', (tile, tile), BACKGROUND), (x, y))
                draw.text((x + 4, y + tile // 2 - 6), 'missing', fill=(128, 128, 128))
                continue
            grid.paste(_fit(cell.convert('RGB'), tile, bool(nearest and nearest[j])), (x, y))
        if row_labels:
            draw.text((pad + 3, y + 2), str(row_labels[i]), fill=(255, 255, 255), stroke_width=1,
                      stroke_fill=(0, 0, 0))
    return grid


def _resolve(folder: str | os.PathLike | None, data_root: Path) -> Path | None:
    if folder is None:
        return None
    p = Path(folder)
    return p if p.is_absolute() or p.is_dir() else data_root / p


def _find(folder: Path, i: str, suffixes: Sequence[str]) -> Path:
    for s in suffixes:
        p = folder / f'{i}{s}'
        if p.is_file():
            return p
    raise FileNotFoundError(f'no {"/".join(suffixes)} file for id {i!r} in {folder}')


def _read_label(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        if im.mode not in ('P', 'L', 'I', 'I;16'):
            raise ValueError(f'{path}: expected a palette or grey label PNG, got mode {im.mode}')
        return np.asarray(im).astype(np.uint8)


def visualize_ids(data_root: str | os.PathLike, ids: Sequence[str], cam_dir=None, saliency_dir=None,
                  pseudo_dir=None, pred_dir=None, gt_dir: str | os.PathLike | None = 'SegmentationClass',
                  tile: int = TILE, cam_alpha: float = 0.5, label_alpha: float = 1.0) -> Image.Image:
    """Build the grid for ``ids`` (see module docstring).

    Folders are absolute, existing relative paths, or relative to ``data_root``. Files missing
    from an explicitly given folder raise ``FileNotFoundError`` naming them; a missing GT file
    (e.g. test images) gives a blank tile, and the GT column is dropped when ``gt_dir`` does
    not exist. ``label_alpha`` < 1 blends label colours onto the image.
    """
    data_root = Path(data_root)
    if not ids:
        raise ValueError('no ids to visualise')
    cols: list[tuple[str, str, Path | None]] = [('image', 'image', data_root / 'JPEGImages')]
    for title, kind, d in (('CAM', 'cam', cam_dir), ('saliency', 'sal', saliency_dir),
                           ('pseudo-label', 'label', pseudo_dir), ('prediction', 'label', pred_dir)):
        p = _resolve(d, data_root)
        if p is not None:
            if not p.is_dir():
                raise FileNotFoundError(f'{title} folder not found: {p}')
            cols.append((title, kind, p))
    gt = _resolve(gt_dir, data_root)
    if gt is not None and gt.is_dir():
        cols.append(('ground truth', 'gt', gt))

    rows = []
    for i in ids:
        img_path = _find(data_root / 'JPEGImages', i, ('.jpg', '.jpeg', '.png'))
        with Image.open(img_path) as im:
            img = np.asarray(im.convert('RGB'))
        h, w = img.shape[:2]
        row: list[Image.Image | None] = []
        for title, kind, folder in cols:
            if kind == 'image':
                row.append(Image.fromarray(img))
            elif kind == 'cam':
                cam = load_cam(_find(folder, i, ('.npy', '.npz', '.png')), (h, w))
                row.append(Image.fromarray(_blend(img, jet(cam), cam_alpha)))
            elif kind == 'sal':
                with Image.open(_find(folder, i, ('.png', '.jpg'))) as im:
                    row.append(im.convert('L').convert('RGB'))
            else:
                try:
                    lab = _read_label(_find(folder, i, ('.png',)))
                except FileNotFoundError:
                    if kind == 'gt':
                        row.append(None)
                        continue
                    raise
                rgb = colorize_label(lab)
                if label_alpha < 1 and lab.shape == (h, w):
                    rgb = _blend(img, rgb, label_alpha)
                row.append(Image.fromarray(rgb))
        rows.append(row)
    nearest = [kind in ('label', 'gt') for _, kind, _ in cols]
    return make_grid(rows, [c[0] for c in cols], tile=tile, nearest=nearest, row_labels=list(ids))


def save_visualization(out: str | os.PathLike, data_root: str | os.PathLike, ids: Sequence[str],
                       **kwargs) -> Path:
    """``visualize_ids`` and write the PNG atomically; returns ``out``."""
    grid = visualize_ids(data_root, ids, **kwargs)
    atomic_save_image(out, grid)
    return Path(out)
