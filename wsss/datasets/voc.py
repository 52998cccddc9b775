"""PASCAL VOC 2012 (and VOC-format) data layer.

Reads ``<data_root>/JPEGImages/<id>.jpg``, masks from ``<data_root>/<ann_dir>/<id>.png`` (palette PNG,
0 = background, 1..20 = classes, 255 = ignore), split lists ``<data_root>/ImageSets/Segmentation/<split>.txt``.
Image-level labels come from the masks, or from a labels file when masks are absent (real train_aug
images without GT): JSON ``{id: [class indices 0..19]}`` or the official EPS/PSA ``cls_labels.npy``.
Saliency comes from a saliency source (``wsss.saliency``); labels for segmenter training from ``label_dir``.

Items are indexed by ``(index, seed)``; augmentation randomness is ``sample_rng(seed, index)``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from PIL import Image

from wsss.datasets.transforms import AugmentConfig, augment
from wsss.utils.voc_meta import NUM_CLASSES
from wsss.registry import DATASETS
from wsss.utils.imaging import normalize
from wsss.utils.io import read_label_png, read_lines
from wsss.utils.seed import sample_rng


def resolve_dir(data_root: str | Path, d: str | Path) -> Path:
    """``d`` if absolute, else relative to ``data_root``."""
    d = Path(d)
    return d if d.is_absolute() else Path(data_root) / d


def load_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB; a missing, truncated or corrupt file is an error naming it (also when raised in a
    DataLoader worker)."""
    if not path.is_file():
        raise FileNotFoundError(f'image not found: {path}')
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert('RGB'))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise ValueError(f'{path}: unreadable image ({type(e).__name__}: {e})') from e


def labels_from_mask(mask: np.ndarray) -> np.ndarray:
    """20-dim 0/1 image-level label vector from a 0..20/255 mask."""
    present = np.unique(mask)
    present = present[(present > 0) & (present <= NUM_CLASSES)]
    lab = np.zeros(NUM_CLASSES, np.float32)
    lab[present.astype(int) - 1] = 1.0
    return lab


def _voc_id(key) -> str:
    """A labels-file key as a VOC id: integers (IRN's encoding of ``YYYY_NNNNNN``) are decoded."""
    if isinstance(key, (int, np.integer)):
        return f'{int(key) // 10**6}_{int(key) % 10**6:06d}'
    return str(key)


def load_labels_file(path: str | Path) -> dict[str, np.ndarray]:
    """Image-level labels: JSON ``{id: [class idx 0..19]}`` or official ``cls_labels.npy`` (``{id: (20,)}``).

    The ``.npy`` form is a pickled dict (that is how PSA/EPS ship it); only load files you trust. IRN/ReCAM-style
    files key it by the id as an integer (``2007000032``), read as ``'2007_000032'`` (IRN's
    ``decode_int_filename``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'image-level labels file not found: {path}')
    if path.suffix == '.json':
        raw = json.loads(path.read_text())
        out = {}
        for k, idx in raw.items():
            v = np.zeros(NUM_CLASSES, np.float32)
            v[np.asarray(idx, int)] = 1.0
            out[k] = v
        return out
    raw = np.load(path, allow_pickle=True).item()
    return {_voc_id(k): np.asarray(v, np.float32).reshape(NUM_CLASSES) for k, v in raw.items()}


@DATASETS.register_module()
class VOCDataset(torch.utils.data.Dataset):
    """VOC-format data set for every stage.

    Args:
        data_root: folder with the VOC layout.
        split: list name under ``ImageSets/Segmentation`` (or a path to a list file).
        mode: ``'cam'`` (img, cls_label[, sal]), ``'seg'`` (img, seg, cls_label) or ``'infer'`` (no
            augmentation; raw uint8 image in ``meta['image']`` too).
        ann_dir: ground-truth mask folder (``SegmentationClass`` or ``SegmentationClassAug``).
        label_dir: training labels for ``mode='seg'`` (pseudo-labels, or ``ann_dir`` for full supervision).
        labels_file: image-level labels when masks are absent (relative to ``data_root`` unless absolute).
        saliency: a saliency source (``wsss.saliency``) or None.
        transforms: ``AugmentConfig`` fields.
    """

    #: plain-dict arguments and what they are passed to (read by the config-key check)
    nested_configs = {'transforms': AugmentConfig}

    def __init__(self, data_root: str, split: str = 'train', mode: str = 'cam',
                 img_dir: str = 'JPEGImages', ann_dir: str = 'SegmentationClass',
                 label_dir: Optional[str] = None, labels_file: Optional[str] = None,
                 saliency: Any = None, transforms: Optional[dict] = None,
                 require_masks: Optional[bool] = None):
        if mode not in ('cam', 'seg', 'infer'):
            raise ValueError(f"mode must be 'cam', 'seg' or 'infer', got {mode!r}")
        self.data_root = Path(data_root)
        if not self.data_root.is_dir():
            raise FileNotFoundError(f'data root not found: {self.data_root} '
                                    f'(point --cfg-options data_root=... at a VOC-format folder)')
        self.mode = mode
        list_path = Path(split) if split.endswith('.txt') else \
            self.data_root / 'ImageSets' / 'Segmentation' / f'{split}.txt'
        self.split = split
        self.ids = read_lines(list_path)
        if not self.ids:
            raise ValueError(f'list file is empty: {list_path}')
        self.img_dir = resolve_dir(self.data_root, img_dir)
        self.ann_dir = resolve_dir(self.data_root, ann_dir)
        self.label_dir = resolve_dir(self.data_root, label_dir) if label_dir else None
        self.saliency = saliency
        self.aug = AugmentConfig(**(transforms or {})) if mode != 'infer' else None
        self.labels = load_labels_file(resolve_dir(self.data_root, labels_file)) if labels_file else None
        if mode == 'seg' and self.label_dir is None:
            raise ValueError("mode='seg' needs label_dir (pseudo-labels, or SegmentationClass for full supervision)")
        # masks are required when the image-level labels must come from them
        if require_masks is None:
            require_masks = self.labels is None
        if require_masks:
            missing = [i for i in self.ids if not (self.ann_dir / f'{i}.png').is_file()]
            if missing:
                raise FileNotFoundError(
                    f'{len(missing)} images of {list_path} have no mask in {self.ann_dir} '
                    f'(first: {missing[:5]}); give labels_file=... for images without ground truth')
        if self.labels is not None:
            missing = [i for i in self.ids if i not in self.labels]
            if missing:
                raise KeyError(f'{len(missing)} ids of {list_path} are not in the labels file '
                               f'(first: {missing[:5]})')

    def __len__(self) -> int:
        return len(self.ids)

    def image_path(self, image_id: str) -> Path:
        return self.img_dir / f'{image_id}.jpg'

    def gt_mask(self, image_id: str) -> np.ndarray:
        return read_label_png(self.ann_dir / f'{image_id}.png')

    def cls_label(self, image_id: str) -> np.ndarray:
        if self.labels is not None:
            return self.labels[image_id]
        return labels_from_mask(self.gt_mask(image_id))

    def load_saliency(self, image_id: str, size_hw: tuple[int, int]) -> Optional[np.ndarray]:
        return None if self.saliency is None else self.saliency.load(image_id, size_hw)

    def __getitem__(self, key) -> dict:
        index, seed = key if isinstance(key, tuple) else (key, 0)
        image_id = self.ids[index]
        img = load_image(self.image_path(image_id))
        h, w = img.shape[:2]
        meta = {'id': image_id, 'ori_size': (h, w)}
        if self.mode == 'infer':  # images without labels (VOC test) are inferred too: cls_label None
            known = self.labels is not None or (self.ann_dir / f'{image_id}.png').is_file()
            return {'image': img, 'cls_label': self.cls_label(image_id) if known else None, 'meta': meta}
        cls_label = self.cls_label(image_id)
        sal = self.load_saliency(image_id, (h, w)) if self.mode == 'cam' else None
        seg = None
        if self.mode == 'seg':
            seg = read_label_png(self.label_dir / f'{image_id}.png')
            if seg.shape != (h, w):
                raise ValueError(f'{self.label_dir / image_id}.png: label size {seg.shape} != image size {(h, w)}')
        img, sal, seg, valid = augment(img, sample_rng(seed, index), self.aug, sal, seg)
        x = normalize(img)
        if valid is not None:  # crop padding is the mean image, i.e. zero after normalisation (official EPS,
            x[:, ~valid] = 0.0  # which crops after normalising, and deeplab-pytorch, which pads with the mean)
        out = {'img': torch.from_numpy(x), 'cls_label': torch.from_numpy(cls_label), 'meta': meta}
        if sal is not None:
            out['sal'] = torch.from_numpy(sal.astype(np.float32)[None] / 255.0)
        if seg is not None:
            out['seg'] = torch.from_numpy(seg.astype(np.int64))
        return out
