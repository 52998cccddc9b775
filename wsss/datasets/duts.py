"""DUTS-layout salient-object data (DUTS-TR/TE, DUT-OMRON, ECSSD, ... and ``data/synthetic_voc/sod``).

Layout: ``<root>/Image/<name>.jpg``, ``<root>/GT/<name>.png`` (uint8 L, 0/255; soft values allowed), optional
list file (``<root>/<split>.txt`` or any path; one name per line); without a list every ``Image/*.jpg`` is used.

Items are indexed by ``(index, seed)``; augmentation randomness is ``sample_rng(seed, index)`` only.
Returns ``{'img': float32 (3, h, w) ImageNet-normalised, 'gt': float32 (1, h, w) in [0, 1], 'meta': {...}}``
with (h, w) = ``base_size``.

Augmentations (InSPyReNet's official training recipe, re-implemented): resize to ``base_size`` (image bilinear,
GT nearest) -> random scale-and-centre-crop with scale in [0.75, 1.25] (p = 0.5; image bilinear, GT bilinear so
edges get soft like the official default PIL resampling) -> horizontal flip (p = 0.5) -> rotation by an integer
angle in [-10, 10) degrees (p = 0.5, black corners, GT nearest) -> contrast / sharpness / brightness in random order,
each with p = 0.5 and factor in [1, 1.1) -> ImageNet normalisation.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from PIL import Image, ImageEnhance

from wsss.registry import DATASETS
from wsss.utils.imaging import normalize
from wsss.utils.io import read_lines
from wsss.utils.seed import sample_rng

def _scale_crop(im: Image.Image, scale: float, resample) -> Image.Image:
    """Resize by ``scale`` and take the centre crop of the original size (zero padding when smaller)."""
    w, h = im.size
    sw, sh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    im = im.resize((sw, sh), resample)
    canvas = Image.new(im.mode, (max(w, sw), max(h, sh)))
    canvas.paste(im, ((canvas.size[0] - sw) // 2, (canvas.size[1] - sh) // 2))
    left, top = (canvas.size[0] - w) // 2, (canvas.size[1] - h) // 2
    return canvas.crop((left, top, left + w, top + h))


@DATASETS.register_module()
class DUTSDataset(torch.utils.data.Dataset):
    """Salient-object training/evaluation data.

    Args:
        data_root: DUTS-layout folder.
        split: list name (``<root>/<split>.txt``), a list path, or None (all images).
        base_size: (h, w) training size (the model's ``base_size``).
        augment: apply the training augmentations (False: resize + normalise only).
        scale_range, rotate_range, flip, enhance: augmentation settings (see module docstring).
        img_dir, gt_dir: sub-folders.
    """

    def __init__(self, data_root: str, split: Optional[str] = None, base_size: Sequence[int] = (384, 384),
                 augment: bool = True, scale_range: Optional[Sequence[float]] = (0.75, 1.25),
                 rotate_range: Optional[Sequence[int]] = (-10, 10), flip: bool = True, enhance: bool = True,
                 img_dir: str = 'Image', gt_dir: str = 'GT'):
        self.root = Path(data_root)
        if not self.root.is_dir():
            raise FileNotFoundError(f'DUTS data root not found: {self.root} (expects Image/ and GT/)')
        self.img_dir, self.gt_dir = self.root / img_dir, self.root / gt_dir
        if not self.img_dir.is_dir() or not self.gt_dir.is_dir():
            raise FileNotFoundError(f'{self.root} is not in the DUTS layout: need {img_dir}/ and {gt_dir}/')
        if split is None:
            self.names = sorted(p.stem for p in self.img_dir.glob('*.jpg'))
            src = str(self.img_dir)
        else:
            lp = Path(split)
            if not lp.is_file():
                lp = self.root / (split if split.endswith('.txt') else f'{split}.txt')
            self.names = read_lines(lp)
            src = str(lp)
        if not self.names:
            raise ValueError(f'no images in {src}')
        missing = [n for n in self.names if not (self.gt_dir / f'{n}.png').is_file()]
        if missing:
            raise FileNotFoundError(f'{len(missing)} images have no ground truth in {self.gt_dir} '
                                    f'(first: {missing[:5]})')
        self.base_size = (int(base_size[0]), int(base_size[1]))
        self.augment, self.flip, self.enhance = augment, flip, enhance
        self.scale_range, self.rotate_range = scale_range, rotate_range

    def __len__(self) -> int:
        return len(self.names)

    def load(self, index: int) -> tuple[Image.Image, Image.Image]:
        name = self.names[index]
        p = self.img_dir / f'{name}.jpg'
        if not p.is_file():
            raise FileNotFoundError(f'image not found: {p}')
        try:
            with Image.open(p) as im:
                img = im.convert('RGB')
        except (OSError, ValueError, SyntaxError) as e:
            raise ValueError(f'{p}: unreadable image ({type(e).__name__}: {e})') from e
        gp = self.gt_dir / f'{name}.png'
        try:
            with Image.open(gp) as g:
                gt = g.convert('L')
        except (OSError, ValueError, SyntaxError) as e:
            raise ValueError(f'{gp}: unreadable ground-truth map ({type(e).__name__}: {e})') from e
        if gt.size != img.size:
            raise ValueError(f'{self.gt_dir / name}.png is {gt.size} but the image is {img.size} (W, H)')
        return img, gt

    def transform(self, img: Image.Image, gt: Image.Image, rng: Optional[np.random.Generator]):
        size_wh = (self.base_size[1], self.base_size[0])
        img, gt = img.resize(size_wh, Image.BILINEAR), gt.resize(size_wh, Image.NEAREST)
        if rng is not None:
            if self.scale_range is not None:
                s = float(rng.uniform(*self.scale_range))
                if rng.random() < 0.5:
                    img, gt = _scale_crop(img, s, Image.BILINEAR), _scale_crop(gt, s, Image.BILINEAR)
            if self.flip and rng.random() < 0.5:
                img, gt = img.transpose(Image.FLIP_LEFT_RIGHT), gt.transpose(Image.FLIP_LEFT_RIGHT)
            if self.rotate_range is not None:
                angle = int(rng.integers(self.rotate_range[0], self.rotate_range[1]))
                if rng.random() < 0.5:
                    img, gt = img.rotate(angle, Image.BILINEAR), gt.rotate(angle, Image.NEAREST)
            if self.enhance:
                for k in rng.permutation(3):
                    if rng.random() < 0.5:
                        op = (ImageEnhance.Contrast, ImageEnhance.Sharpness, ImageEnhance.Brightness)[k]
                        img = op(img).enhance(float(1 + rng.random() / 10))
        x = normalize(np.asarray(img))
        y = np.asarray(gt, np.float32)[None] / 255.0
        return torch.from_numpy(x), torch.from_numpy(y)

    def __getitem__(self, key) -> dict:
        index, seed = key if isinstance(key, tuple) else (key, 0)
        img, gt = self.load(index)
        ori = (img.size[1], img.size[0])
        x, y = self.transform(img, gt, sample_rng(seed, index) if self.augment else None)
        return {'img': x, 'gt': y, 'meta': {'id': self.names[index], 'ori_size': ori}}
