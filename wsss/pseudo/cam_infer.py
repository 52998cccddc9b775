"""Multi-scale, flipped CAM inference as the official EPS/PSA ``infer.py`` does it."""
from __future__ import annotations

import inspect
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from wsss.utils.imaging import normalize



def _accepts_label(model) -> bool:
    try:
        return 'cls_label' in inspect.signature(model.cam_maps).parameters
    except (TypeError, ValueError):
        return False


@torch.no_grad()
def multiscale_cam(model, image: np.ndarray, scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0), flip: bool = True,
                   fusion: Optional[str] = None, device: str | torch.device = 'cpu',
                   cls_label: Optional[np.ndarray] = None) -> np.ndarray:
    """Fused multi-scale CAMs of one image: float32 (C, H, W).

    For each scale s: the image is resized with PIL bicubic to ``(round(W·s), round(H·s))`` (Python ``round``),
    ImageNet-normalised, passed through ``model.cam_maps`` together with its horizontal flip, each map is
    upsampled bilinearly (``align_corners=False``) to H×W, the flipped one is flipped back, and all passes are
    fused by ``fusion`` ('sum' as official EPS/PSA, 'max' as SeeNet; default ``model.flip_fusion``).
    Absent classes are *not* zeroed here (the pseudo-label rule does it; for 'sum' this equals the official
    per-pass ``* label``). ``cls_label`` (C,) is passed to ``model.cam_maps`` when it accepts it (SeeNet's C-ReLU
    mask uses the image labels). The model is put in eval mode.
    """
    fusion = fusion or getattr(model, 'flip_fusion', 'sum')
    if fusion not in ('sum', 'max'):
        raise ValueError(f"fusion must be 'sum' or 'max', got {fusion!r}")
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'image must be uint8 HxWx3, got {image.dtype} {image.shape}')
    h, w = image.shape[:2]
    model.eval()
    pil = Image.fromarray(image)
    kwargs = {}
    if cls_label is not None and _accepts_label(model):
        lab = torch.as_tensor(np.asarray(cls_label, np.float32).reshape(1, -1), device=device)
        kwargs['cls_label'] = lab.expand(2 if flip else 1, -1)
    fused = None
    for s in scales:
        size = (round(w * s), round(h * s))
        x = torch.from_numpy(normalize(np.asarray(pil.resize(size, resample=Image.BICUBIC)), np.float64))[None]
        if flip:
            x = torch.cat([x, x.flip(-1)], 0)
        cams = model.cam_maps(x.to(device), **kwargs).float()
        cams = F.interpolate(cams, (h, w), mode='bilinear', align_corners=False)
        passes = [cams[0], cams[1].flip(-1)] if flip else [cams[0]]
        for p in passes:
            if fused is None:
                fused = p.clone()
            elif fusion == 'sum':
                fused += p
            else:
                fused = torch.maximum(fused, p)
    return fused.cpu().numpy().astype(np.float32)
