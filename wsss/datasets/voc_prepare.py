"""Prepare PASCAL VOC 2012 + SBD ("VOC aug") as the pipeline's ``data_root``: one job, ``prepare_voc``.

Inputs, as the two official archives unpack:
- ``VOCtrainval_11-May-2012.tar`` -> ``VOCdevkit/VOC2012`` (``JPEGImages/``, ``SegmentationClass/`` palette PNGs
  with 255 borders, ``ImageSets/Segmentation/{train,val}.txt``: 1,464 / 1,449 ids);
- SBD ``benchmark.tgz`` (Hariharan et al., "Semantic contours from inverse detectors") -> ``benchmark_RELEASE``
  (``dataset/cls/<id>.mat`` holding the struct ``GTcls`` with ``Segmentation`` (uint8 HxW, 0..20, no 255),
  ``Boundaries`` and ``CategoriesPresent``; ``dataset/{train,val}.txt``: 8,498 / 2,857 ids).

Outputs under ``out`` (which may be the VOC root itself, as mmsegmentation's converter does by default):
- ``SegmentationClassAug/<id>.png``: palette PNGs for every id of train_aug and val. VOC's own
  ``SegmentationClass/<id>.png`` wins where it exists (its bytes copied: 255 borders kept); the other ids are SBD's
  ``GTcls.Segmentation``.
- ``ImageSets/Segmentation/``: ``train.txt`` and ``val.txt`` (VOC's), ``train_aug.txt`` = (SBD train | SBD val |
  VOC train) - VOC val (10,582, sorted), ``trainaug.txt`` (the same list under the name mmsegmentation's
  ``voc_aug.py`` writes), ``aug.txt`` = (SBD train | SBD val) - (VOC train | VOC val) (9,118: what
  mmsegmentation's ``pascal_voc12_aug.py`` config reads with ``SegmentationClassAug``, next to ``train.txt`` with
  ``SegmentationClass``).
- ``cls_labels.json`` (``{id: [class indices 0..19]}``) and ``cls_labels.npy`` (the EPS/PSA layout: a pickled dict
  id -> float32 (20,) 0/1 vector) for every id of train_aug and val, taken from the masks written above
  (classes 1..20 present; 0 and 255 ignored). Note: PSA's own ``make_cls_labels.py`` reads the XML annotations
  instead, so a few ids may differ from the released file.
- ``JPEGImages`` and ``SegmentationClass``: symlinks to VOC's folders when ``out`` is not the VOC root.

Every input is read and checked before anything is written; all problems (missing or unreadable files, a ``.mat``
without ``GTcls.Segmentation``, a mask whose size differs from its image) are raised together in one
``PrepareError``. Counts that differ from the official release are warnings (a small tree still converts).
Writes are atomic; an output whose content is already right is skipped, so a rerun changes nothing and an
interrupted run continues.
"""
from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image
from tqdm import tqdm

from wsss.datasets.voc import labels_from_mask
from wsss.utils.io import atomic_write_bytes, encode_label_png, read_label_png, read_lines
from wsss.utils.voc_meta import NUM_CLASSES

#: list sizes of the official VOC 2012 trainval + SBD release
OFFICIAL_COUNTS = {'train': 1464, 'val': 1449, 'train_aug': 10582, 'aug': 9118,
                   'SBD train': 8498, 'SBD val': 2857}
AUG_DIR = 'SegmentationClassAug'
LIST_DIR = Path('ImageSets') / 'Segmentation'
LINKED_DIRS = ('JPEGImages', 'SegmentationClass')


class PrepareError(RuntimeError):
    """Every problem found by the scan, one per line (``problems`` holds them)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f'{len(problems)} problem(s) in the VOC / SBD input, nothing was written:\n  '
                         + '\n  '.join(problems))


def read_sbd_mask(path: str | os.PathLike) -> np.ndarray:
    """``GTcls.Segmentation`` of an SBD ``dataset/cls/<id>.mat`` as (H, W) uint8; errors name the file."""
    from scipy.io import loadmat  # scipy.io is slow to import; only this step needs it
    path = Path(path)
    try:
        mat = loadmat(str(path), variable_names=['GTcls'])
    except Exception as e:  # scipy raises ValueError, TypeError, MatReadError, zlib errors, ... on a bad file
        raise ValueError(f'{path}: unreadable .mat ({type(e).__name__}: {e})') from e
    gt = mat.get('GTcls')
    names = getattr(getattr(gt, 'dtype', None), 'names', None) or ()
    if gt is None or 'Segmentation' not in names or gt.size != 1:
        raise ValueError(f'{path}: no GTcls struct with a Segmentation field (not an SBD dataset/cls file)')
    seg = np.asarray(gt['Segmentation'].flat[0])
    if seg.ndim != 2 or seg.dtype.kind not in 'uib':
        raise ValueError(f'{path}: GTcls.Segmentation is not a 2-D integer map ({seg.dtype}, shape {seg.shape})')
    bad = (seg > NUM_CLASSES) & (seg != 255) | (seg < 0)
    if bad.any():
        raise ValueError(f'{path}: GTcls.Segmentation values {np.unique(seg[bad])[:10].tolist()} are outside '
                         f'0..{NUM_CLASSES} and 255')
    return seg.astype(np.uint8)


def _sbd_dataset_dir(sbd_root: Path) -> Path:
    """``benchmark_RELEASE/dataset``; ``--sbd`` may also name ``dataset`` itself."""
    if not (sbd_root / 'dataset').is_dir() and (sbd_root / 'cls').is_dir():
        return sbd_root
    return sbd_root / 'dataset'


def _read_list(path: Path, problems: list[str], hint: str) -> list[str]:
    try:
        return read_lines(path)
    except FileNotFoundError:
        problems.append(f'{path}: missing list ({hint})')
        return []


def _same_path(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _image_size(path: Path) -> tuple[int, int]:
    """(H, W) from the JPEG header; errors name the file."""
    if not path.is_file():
        raise FileNotFoundError(f'{path}: missing image')
    try:
        with Image.open(path) as img:
            return img.height, img.width
    except (OSError, ValueError) as e:
        raise ValueError(f'{path}: unreadable image ({e})') from e


def _scan(voc: Path, sbd: Path, out: Path, progress: bool):
    """Read and check every input; returns (lists, masks {id: (png bytes, labels, from_voc)}, links to make,
    list sizes). Raises ``PrepareError`` with every problem found."""
    problems: list[str] = []
    hint_voc = 'is --voc the VOCdevkit/VOC2012 folder of VOCtrainval_11-May-2012.tar?'
    hint_sbd = 'is --sbd the benchmark_RELEASE folder of SBD benchmark.tgz?'
    voc_train = _read_list(voc / LIST_DIR / 'train.txt', problems, hint_voc)
    voc_val = _read_list(voc / LIST_DIR / 'val.txt', problems, hint_voc)
    sbd_train = _read_list(sbd / 'train.txt', problems, hint_sbd)
    sbd_val = _read_list(sbd / 'val.txt', problems, hint_sbd)
    if problems:
        raise PrepareError(problems)
    val_set, train_set, sbd_set = set(voc_val), set(voc_train), set(sbd_train) | set(sbd_val)
    lists = {'train': voc_train, 'val': voc_val,
             'train_aug': sorted((sbd_set | train_set) - val_set),
             'aug': sorted(sbd_set - train_set - val_set)}
    lists['trainaug'] = lists['train_aug']

    # the symlinks to VOC's folders: an existing entry must already be that folder
    links = []
    if not _same_path(out, voc):
        for name in LINKED_DIRS:
            link, target = out / name, (voc / name).resolve()
            if link.is_symlink() or link.exists():
                if link.resolve() != target:
                    problems.append(f'{link}: exists and is not {target}; remove it or choose another --out')
                    continue
            links.append((link, target))

    masks = {}
    ids = sorted(set(lists['train_aug']) | val_set)
    for image_id in tqdm(ids, desc='read masks', unit='mask', disable=not progress):
        voc_png = voc / 'SegmentationClass' / f'{image_id}.png'
        label = size = None
        try:
            if voc_png.is_file() or image_id in train_set or image_id in val_set:
                label = read_label_png(voc_png)  # a VOC id must have its VOC mask (FileNotFoundError otherwise)
                png, from_voc, src = voc_png.read_bytes(), True, voc_png
            else:
                src = sbd / 'cls' / f'{image_id}.mat'
                if not src.is_file():
                    raise FileNotFoundError(f'{src}: missing SBD annotation')
                label = read_sbd_mask(src)
                png, from_voc = encode_label_png(label, str(src)), False
        except (OSError, ValueError) as e:
            problems.append(str(e))
        try:
            size = _image_size(voc / 'JPEGImages' / f'{image_id}.jpg')
        except (OSError, ValueError) as e:
            problems.append(str(e))
        if label is None or size is None:
            continue
        if label.shape != size:
            problems.append(f'{src}: mask size {label.shape} differs from the image size {size}')
            continue
        masks[image_id] = (png, labels_from_mask(label), from_voc)
    if problems:
        raise PrepareError(problems)
    counts = {name: len(lists[name]) for name in ('train', 'val', 'train_aug', 'aug')}
    counts.update({'SBD train': len(sbd_train), 'SBD val': len(sbd_val)})
    return lists, masks, links, counts


def _png_is(path: Path, png: bytes) -> bool:
    """``path`` holds these PNG bytes, or a palette PNG of the same labels (another Pillow's encoding)."""
    if not path.is_file():
        return False
    if path.read_bytes() == png:
        return True
    try:
        with Image.open(path) as img, Image.open(io.BytesIO(png)) as want:
            return img.mode == 'P' and np.array_equal(np.asarray(img), np.asarray(want))
    except (OSError, ValueError):
        return False


def _write_if_changed(path: Path, data: bytes, stats: dict) -> None:
    if path.is_file() and path.read_bytes() == data:
        stats['skipped'] += 1
    else:
        atomic_write_bytes(path, data)
        stats['written'] += 1


def _remove_stale_temps(folder: Path, names: Optional[list[str]] = None) -> None:
    """Temporary files an interrupted ``atomic_write_bytes`` left (``.<name>.*.tmp``)."""
    if folder.is_dir():
        for p in folder.glob('.*.tmp'):
            if names is None or any(p.name.startswith(f'.{n}.') for n in names):
                p.unlink()


def _labels_json_bytes(labels: dict[str, np.ndarray]) -> bytes:
    """``{id: [class indices 0..19]}``, one id a line."""
    rows = [f'{json.dumps(i)}: {json.dumps(np.flatnonzero(v).tolist())}' for i, v in labels.items()]
    return ('{\n' + ',\n'.join(rows) + '\n}\n').encode()


def _labels_npy_bytes(labels: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array(labels, dtype=object), allow_pickle=True)
    return buf.getvalue()


def prepare_voc(voc_root: str | os.PathLike, sbd_root: str | os.PathLike, out_dir: str | os.PathLike,
                progress: bool = True) -> dict:
    """Convert VOC 2012 + SBD into ``out_dir`` (see the module docstring); returns a summary dict whose
    ``'line'`` says what was written and skipped. Raises ``PrepareError`` (every problem, nothing written)."""
    voc, out = Path(voc_root), Path(out_dir)
    sbd = _sbd_dataset_dir(Path(sbd_root))
    lists, masks, links, counts = _scan(voc, sbd, out, progress)
    mismatches = []
    for name, n in counts.items():
        if n != OFFICIAL_COUNTS[name]:
            mismatches.append(f'{name}: {n} ids, the official VOC 2012 + SBD release has {OFFICIAL_COUNTS[name]}')
            warnings.warn(f'prepare_voc: {mismatches[-1]}', stacklevel=2)

    mask_stats = {'written': 0, 'skipped': 0}
    other_stats = {'written': 0, 'skipped': 0}
    aug_dir = out / AUG_DIR
    _remove_stale_temps(aug_dir)
    for image_id, (png, _, _) in tqdm(masks.items(), desc='write masks', unit='mask', disable=not progress):
        path = aug_dir / f'{image_id}.png'
        if _png_is(path, png):
            mask_stats['skipped'] += 1
        else:
            atomic_write_bytes(path, png)
            mask_stats['written'] += 1

    labels = {i: masks[i][1] for i in sorted(masks)}
    _remove_stale_temps(out, ['cls_labels.json', 'cls_labels.npy'])
    _write_if_changed(out / 'cls_labels.json', _labels_json_bytes(labels), other_stats)
    _write_if_changed(out / 'cls_labels.npy', _labels_npy_bytes(labels), other_stats)

    list_dir = out / LIST_DIR
    _remove_stale_temps(list_dir, [f'{n}.txt' for n in lists])
    for name, ids in lists.items():
        path = list_dir / f'{name}.txt'
        if name in ('train', 'val') and _same_path(path, voc / LIST_DIR / path.name):
            other_stats['skipped'] += 1  # out is the VOC root: VOC's own list, never rewritten
            continue
        _write_if_changed(path, ''.join(f'{i}\n' for i in ids).encode(), other_stats)

    for link, target in links:
        if link.is_symlink() or link.exists():
            other_stats['skipped'] += 1
        else:
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target, target_is_directory=True)
            other_stats['written'] += 1

    n_voc = sum(from_voc for _, _, from_voc in masks.values())
    written = mask_stats['written'] + other_stats['written']
    skipped = mask_stats['skipped'] + other_stats['skipped']
    line = (f'prepare_voc: {out}: {written} written, {skipped} skipped; {AUG_DIR}: {len(masks)} masks '
            f'({n_voc} from VOC SegmentationClass, {len(masks) - n_voc} from SBD; {mask_stats["written"]} '
            f'written, {mask_stats["skipped"]} skipped); lists ' + ', '.join(f'{k} {v}' for k, v in counts.items())
            + (f'; {len(mismatches)} count(s) differ from the official release' if mismatches else ''))
    return {'out': str(out), 'written': written, 'skipped': skipped, 'masks': len(masks), 'masks_from_voc': n_voc,
            'masks_written': mask_stats['written'], 'masks_skipped': mask_stats['skipped'], 'counts': counts,
            'count_mismatches': mismatches, 'line': line}
