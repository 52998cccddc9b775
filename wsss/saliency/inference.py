"""Batched saliency-map inference into a folder that ``FolderSaliency`` reads (``<data_root>/saliency/<name>``);
the saliency stage's ``infer`` (:mod:`wsss.stages.saliency.infer`) drives it from a config.

Output contract: one 8-bit grey PNG per image, ``<out_dir>/<id>.png``, at the image's own size; value =
``floor(255 * s)`` with ``s = model.probability(finest logits)``, resized to the image size with bilinear
interpolation (align_corners=True) - the official post-processing of both models. ``probability`` is the
per-image min-max normalised sigmoid for InSPyReNet and the plain sigmoid for BiRefNet (official
``inference.py``).

Pre-processing: resize of the uint8 RGB image with the model's ``input_resize`` (``'pil'``: PIL bilinear, the
official InSPyReNet ``static_resize`` / ``dynamic_resize``; ``'cv2'``: OpenCV ``INTER_LINEAR`` without
antialiasing, the official BiRefNet data pipeline), then /255 and ImageNet mean/std. Modes:

- ``static``: every image at ``base_size`` (one pass). Official Res2Net-50 test setting, transparent-background
  default.
- ``dynamic``: one pass at the dynamic size: if the short side exceeds ``L`` (1280) scale it to ``L`` keeping the
  aspect ratio, then round both sides to a multiple of 32.
- ``blend`` (models with a ``blend`` method: InSPyReNet): official Swin-B test setting. With the dynamic size (H, W): if H <= threshold or W <= threshold one
  pass at ``base_size``; otherwise pyramid blending of a pass at ``base_size`` (LR) and one at (H, W) (HR).

Batching: images are grouped by what they are resized to, batches are formed once per shard from the whole
list (so a resumed run recomputes exactly the same batches and reproduces the uninterrupted maps bit for bit),
and a batch whose maps all exist is skipped. Writes are atomic (temp file + rename), so runs may be killed and
restarted, and several processes (``rank``/``world_size`` shards, or even the same shard twice) never leave a
half-written map.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from wsss.engine.dist import shard
from wsss.utils.imaging import normalize_tensor
from wsss.utils.io import read_lines, save_gray_png

logger = logging.getLogger(__name__)

MODES = ('static', 'dynamic', 'blend')


def dynamic_size(h: int, w: int, L: int = 1280) -> tuple[int, int]:
    """Official ``dynamic_resize``: short side capped at L (aspect kept), both sides rounded to a multiple of 32."""
    fw, fh = float(w), float(h)
    if fw >= fh and fh > L:
        fw, fh = fw / (fh / L), float(L)
    elif fh > fw and fw > L:
        fh, fw = fh / (fw / L), float(L)
    return int(round(fh / 32)) * 32, int(round(fw / 32)) * 32


def plan_image(h: int, w: int, mode: str, base_size: Sequence[int], threshold: Optional[int] = 512,
               L: int = 1280) -> tuple[str, tuple[int, int]]:
    """(kind, size) an image of (h, w) is processed at: ('single', (h', w')) or ('blend', hr_size)."""
    base = (int(base_size[0]), int(base_size[1]))
    if mode == 'static':
        return 'single', base
    hr = dynamic_size(h, w, L)
    if mode == 'dynamic':
        return 'single', hr
    if mode != 'blend':
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if threshold is None or hr[0] <= threshold or hr[1] <= threshold:
        return 'single', base
    return 'blend', hr


def image_size(path: Path) -> tuple[int, int]:
    """(h, w) from the file header."""
    with Image.open(path) as im:
        return im.size[1], im.size[0]


def load_rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert('RGB')


def _resize_pil(img: Image.Image, size_hw: Sequence[int]) -> np.ndarray:
    return np.asarray(img.resize((int(size_hw[1]), int(size_hw[0])), Image.BILINEAR))


def _resize_cv2(img: Image.Image, size_hw: Sequence[int]) -> np.ndarray:
    import cv2  # a dependency of mmengine
    return cv2.resize(np.asarray(img), (int(size_hw[1]), int(size_hw[0])), interpolation=cv2.INTER_LINEAR)


#: ``model.input_resize`` -> uint8 RGB resize function (PIL image, (h, w)) -> HxWx3 uint8 array
INPUT_RESIZES = {'pil': _resize_pil, 'cv2': _resize_cv2}


def resize_uint8(img: Image.Image, size_hw: Sequence[int], method: str = 'pil') -> torch.Tensor:
    """Resize with ``INPUT_RESIZES[method]`` (no-op at the same size) -> (3, h, w) uint8 tensor."""
    if method not in INPUT_RESIZES:
        raise ValueError(f'input_resize must be one of {sorted(INPUT_RESIZES)}, got {method!r}')
    arr = INPUT_RESIZES[method](img, size_hw) if (img.size[1], img.size[0]) != tuple(size_hw) else np.asarray(img)
    return torch.from_numpy(np.array(arr)).permute(2, 0, 1)  # a writable copy


def to_uint8_maps(p: torch.Tensor, sizes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """Saliency probabilities (B, 1, h, w) in [0, 1] -> per-image uint8 maps at the given original sizes."""
    p = p.float()
    out = []
    for i, (h, w) in enumerate(sizes):
        m = F.interpolate(p[i:i + 1], size=(int(h), int(w)), mode='bilinear', align_corners=True)
        out.append((m[0, 0].cpu().numpy() * 255).astype(np.uint8))
    return out


class _BatchSet(torch.utils.data.Dataset):
    """Item i = the i-th planned batch, loaded and resized (runs in DataLoader workers)."""

    def __init__(self, batches, items, base_size, resize='pil'):
        self.batches, self.items, self.base, self.resize = batches, items, tuple(base_size), resize

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, i):
        kind, size, idx = self.batches[i]
        imgs, lrs, ids, sizes = [], [], [], []
        for j in idx:
            image_id, path, hw = self.items[j]
            im = load_rgb(path)
            if (im.size[1], im.size[0]) != tuple(hw):
                raise ValueError(f'{path}: size changed while running ({hw} -> {im.size[::-1]})')
            imgs.append(resize_uint8(im, size, self.resize))
            if kind == 'blend':
                lrs.append(resize_uint8(im, self.base, self.resize))
            ids.append(image_id)
            sizes.append(hw)
        return {'kind': kind, 'img': torch.stack(imgs), 'img_lr': torch.stack(lrs) if lrs else None,
                'ids': ids, 'sizes': sizes}


def list_images(data_root: str | os.PathLike, split: Optional[str] = None,
                img_dir: Optional[str] = None) -> list[tuple[str, Path]]:
    """(id, path) pairs. ``img_dir`` defaults to ``JPEGImages`` (VOC) or ``Image`` (DUTS), whichever exists.
    ``split``: a list file path, a VOC split name (``ImageSets/Segmentation/<split>.txt``) or None (every .jpg)."""
    root = Path(data_root)
    if img_dir is None:
        img_dir = next((d for d in ('JPEGImages', 'Image', 'images') if (root / d).is_dir()), 'JPEGImages')
    d = Path(img_dir) if Path(img_dir).is_absolute() else root / img_dir
    if not d.is_dir():
        raise FileNotFoundError(f'image folder not found: {d}')
    if split is None:
        ids = sorted(p.stem for p in d.glob('*.jpg'))
    else:
        sp = Path(split)
        if not sp.is_file():
            sp = root / 'ImageSets' / 'Segmentation' / f'{split}.txt'
        if not sp.is_file():
            raise FileNotFoundError(f'split not found: {split} (neither a file nor {sp})')
        ids = read_lines(sp)
    pairs = []
    for i in ids:
        p = d / f'{i}.jpg'
        if not p.is_file():
            alt = [q for q in (d / f'{i}.png', d / f'{i}.jpeg', d / f'{i}.JPG') if q.is_file()]
            if not alt:
                raise FileNotFoundError(f'image not found: {p}')
            p = alt[0]
        pairs.append((i, p))
    return pairs


def plan_batches(items, mode, base_size, threshold, L, batch_size):
    """Group (id, path, (h, w)) items by processing size; stable order inside a group."""
    groups: dict[tuple, list[int]] = {}
    for j, (_, _, (h, w)) in enumerate(items):
        groups.setdefault(plan_image(h, w, mode, base_size, threshold, L), []).append(j)
    batches = []
    for (kind, size), idx in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for s in range(0, len(idx), batch_size):
            batches.append((kind, size, idx[s:s + batch_size]))
    return batches


@torch.no_grad()
def make_saliency_maps(model, images: Sequence[tuple[str, Path]], out_dir: str | os.PathLike,
                       mode: str = 'static', base_size: Optional[Sequence[int]] = None,
                       threshold: Optional[int] = -1, L: int = 1280, batch_size: int = 8,
                       device: str | torch.device = 'cpu', amp: bool = False, num_workers: int = 0,
                       rank: int = 0, world_size: int = 1, overwrite: bool = False, progress: bool = True,
                       tf32: bool = False, writers: int = 4,
                       on_saved: Optional[Callable[[str], None]] = None) -> dict:
    """Write ``<out_dir>/<id>.png`` for this shard's images; returns counts.

    ``model``: a saliency model with weights loaded (``InSPyReNet``, ``BiRefNet``): ``model(img)['saliency'][-1]``
    are the finest logits, ``model.probability`` maps them to [0, 1], ``model.input_resize`` names the
    pre-processing resize, ``model.blend`` (InSPyReNet) serves ``mode='blend'``. ``base_size`` defaults to ``model.base_size``;
    ``threshold=-1`` uses ``model.threshold`` (only used by ``mode='blend'``, where None means 512).
    ``amp``: float16 autocast on CUDA (ignored on CPU). ``tf32``: allow TF32 matmuls/convolutions on CUDA
    (off by default, like the official test code). ``writers``: threads encoding and writing PNGs while the
    next batch runs. ``on_saved(id)`` is called when a map is handed to a writer (tests use it to simulate a
    crash); every handed-over map is on disk when this function returns or raises.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if mode == 'blend' and not hasattr(model, 'blend'):
        raise ValueError(f"mode 'blend' (pyramid blending) needs a model with a blend method; "
                         f"{type(model).__name__} has none: use mode 'static' or 'dynamic'")
    device = torch.device(device)
    base_size = tuple(int(v) for v in (base_size if base_size is not None else model.base_size))
    trained = getattr(model, 'trained_base_size', None)
    if getattr(model, 'base_size_fixed', True) and trained is not None and tuple(trained) != base_size:
        raise ValueError(f'the loaded weights were trained with base_size {list(trained)} but base_size '
                         f'{list(base_size)} was requested')
    thr = model.threshold if threshold == -1 else threshold
    if mode == 'blend' and thr is None:
        thr = 512
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mine = shard(list(images), rank, world_size)
    items = [(i, Path(p), image_size(Path(p))) for i, p in mine]
    batches = plan_batches(items, mode, base_size, thr, L, batch_size)

    def done(j):
        return (out_dir / f'{items[j][0]}.png').is_file()

    todo = [b for b in batches if overwrite or not all(done(j) for j in b[2])]
    n_done_before = 0 if overwrite else sum(done(j) for j in range(len(items)))
    model = model.to(device).eval()
    if model.base_size is None or tuple(model.base_size) != base_size:
        model.base_size = base_size
    use_amp = bool(amp and device.type == 'cuda')
    autocast = torch.autocast('cuda', dtype=torch.float16) if use_amp else nullcontext()
    fp32_fallbacks = 0
    loader = torch.utils.data.DataLoader(_BatchSet(todo, items, base_size, getattr(model, 'input_resize', 'pil')), batch_size=None, shuffle=False,
                                         num_workers=num_workers, pin_memory=device.type == 'cuda')
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(items), initial=n_done_before, desc=f'saliency[{rank}/{world_size}]',
                   unit='img', dynamic_ncols=True)
    written = 0
    pool = ThreadPoolExecutor(max_workers=max(1, writers))
    pending: list = []
    tf32_state = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = bool(tf32)
    try:
        for batch in loader:
            img = normalize_tensor(batch['img'].to(device, non_blocking=True))
            lr = normalize_tensor(batch['img_lr'].to(device, non_blocking=True)) if batch['kind'] == 'blend' \
                else None

            def run():
                return model.blend(model(lr), model(img)) if lr is not None else model(img)['saliency'][-1]
            with autocast:
                d0 = run()
            if use_amp and not torch.isfinite(d0).all():  # float16 overflow: redo this batch in float32
                fp32_fallbacks += 1
                logger.warning('non-finite output under AMP for %s: recomputed in float32', batch['ids'])
                d0 = run()
            if not torch.isfinite(d0).all():  # NaN would be written as an arbitrary grey level
                raise ValueError(f'the saliency model output non-finite values (NaN / inf) for {list(batch["ids"])} '
                                 f'in float32: the weights do not fit this model or input (nothing was written for '
                                 f'these images)')
            maps = to_uint8_maps(model.probability(d0.float()), batch['sizes'])
            for f in [f for f in pending if f.done()]:
                f.result()  # surface write errors early
                pending.remove(f)
            for image_id, m in zip(batch['ids'], maps):
                path = out_dir / f'{image_id}.png'
                if overwrite or not path.is_file():
                    pending.append(pool.submit(save_gray_png, path, m))
                    written += 1
                    if on_saved is not None:
                        on_saved(image_id)
                    if bar is not None:
                        bar.update(1)
        for f in pending:
            f.result()
    finally:
        pool.shutdown(wait=True)
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32_state
        if bar is not None:
            bar.close()
    return {'images': len(items), 'written': written, 'skipped': len(items) - written,
            'batches': len(todo), 'rank': rank, 'world_size': world_size, 'mode': mode,
            'base_size': list(base_size), 'threshold': thr, 'amp': use_amp, 'amp_fp32_fallbacks': fp32_fallbacks,
            'tf32': bool(tf32)}


def build_saliency_model(cfg, checkpoint: Optional[str] = None, base_size: Optional[Sequence[int]] = None):
    """Build ``cfg.model`` (mmengine Config or dict) and load ``checkpoint`` with the model's ``load_checkpoint``
    (official raw state_dict, safetensors for BiRefNet, or ours).

    The requested base size is ``base_size`` when given (``--base-size``), else ``cfg.model.base_size``; a
    checkpoint of ours that stores another one is refused with an error naming both. The backbone's ImageNet
    ``pretrained`` path is dropped when a full checkpoint is loaded.
    """
    import copy

    import wsss.models.saliency  # noqa: F401  (registers the models)
    from wsss.registry import SALIENCY_MODELS
    mcfg = copy.deepcopy(dict(cfg['model'] if 'model' in cfg else cfg))
    if checkpoint is not None and isinstance(mcfg.get('backbone'), dict):
        mcfg['backbone'] = dict(mcfg['backbone'], pretrained=None)
    if checkpoint is not None and 'pretrained' in mcfg:
        mcfg['pretrained'] = None
    if base_size is not None:
        mcfg['base_size'] = [int(v) for v in base_size]
    model = SALIENCY_MODELS.build(mcfg)
    if checkpoint is not None:
        model.load_checkpoint(checkpoint, base_size=model.base_size)
    return model
