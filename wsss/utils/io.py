"""File I/O with a written contract: atomic writes and VOC palette PNGs.

Label PNG contract (every stage): mode ``P`` (palette) PNG, one uint8 per pixel,
0 = background, 1..20 = VOC classes in the official order, 255 = ignore /
uncertain. Saliency PNG contract: mode ``L``, uint8 0..255, same size as the image.
Every file is written to a temporary name in the same folder and renamed into
place, so an interrupted stage never leaves a half-written file.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from wsss.utils.voc_meta import VOC_PALETTE


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600 files; outputs are ordinary files (0666 minus the umask)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + '\n').encode())


def atomic_save_image(path: str | os.PathLike, img: Image.Image) -> None:
    buf = io.BytesIO()
    img.save(buf, format='PNG')
    atomic_write_bytes(path, buf.getvalue())


def encode_label_png(label: np.ndarray, name: str = 'label map') -> bytes:
    """The bytes of an (H, W) uint8 label map as a VOC palette PNG (what ``save_label_png`` writes)."""
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'{name}: a label map must be 2-D, got shape {label.shape}')
    img = Image.fromarray(label.astype(np.uint8), mode='P')
    img.putpalette(VOC_PALETTE)
    buf = io.BytesIO()
    img.save(buf, format='PNG')
    return buf.getvalue()


def save_label_png(path: str | os.PathLike, label: np.ndarray) -> None:
    """Save an (H, W) uint8 label map as a VOC palette PNG, atomically."""
    atomic_write_bytes(path, encode_label_png(label, str(path)))


def save_gray_png(path: str | os.PathLike, arr: np.ndarray) -> None:
    """Save an (H, W) uint8 map (saliency) as an 8-bit grey PNG, atomically."""
    atomic_save_image(path, Image.fromarray(np.asarray(arr, dtype=np.uint8), mode='L'))


def read_label_png(path: str | os.PathLike, num_classes: int = 21) -> np.ndarray:
    """Read a label PNG as (H, W) uint8 indices; the one check of the label contract (every reader and
    ``validate_label_dir`` use it): a readable palette or grey PNG whose values are in 0..num_classes-1 or 255.
    Errors name the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'label map not found: {path}')
    try:
        with Image.open(path) as img:
            mode = img.mode
            arr = np.asarray(img) if mode in LABEL_MODES else None
    except (OSError, ValueError) as e:  # truncated or not an image
        raise ValueError(f'{path}: unreadable label PNG ({e})') from e
    if arr is None:
        raise ValueError(f'{path}: expected a palette or grey label PNG, got mode {mode}')
    bad = (arr >= num_classes) & (arr != 255)
    if bad.any():
        vals = np.unique(arr[bad])[:10].tolist()
        raise ValueError(f'{path}: label values {vals} are outside 0..{num_classes - 1} and 255 (ignore)')
    return arr.astype(np.uint8)


#: PIL modes a label PNG may have (palette, or a single grey channel)
LABEL_MODES = ('P', 'L', 'I', 'I;16')


def read_lines(path: str | os.PathLike) -> list[str]:
    """Read a split list (one id per line; VOC lists may carry a second column, which is dropped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'list file not found: {path}')
    return [ln.split()[0] for ln in path.read_text().splitlines() if ln.strip()]
