"""Semantic segmentation metrics with mmsegmentation's ``IoUMetric`` semantics.

Definitions (identical to ``mmseg.evaluation.metrics.IoUMetric`` 1.2.2):

* Pixels whose **ground truth** equals ``ignore_index`` (255) are dropped.
* On the remaining pixels mmseg takes ``torch.histc(..., bins=K, min=0, max=K-1)`` of the
  prediction, of the GT and of the agreeing pixels. ``histc`` silently drops values outside
  ``[0, K-1]``. Consequently a prediction value outside ``0..K-1`` (e.g. 255 in a pseudo-label)
  on a pixel with valid GT ``c`` is **not** removed from the evaluation: it adds to the GT area
  (and therefore to the union) of ``c`` and to the aAcc denominator, but to no prediction area
  and no intersection -- it is simply a wrong pixel. (EPS's ``evaluate_png.py`` instead drops
  such pixels entirely; we follow mmseg.) Likewise a GT value outside ``0..K-1`` that is not
  ``ignore_index`` counts in the prediction area of the predicted class only.
* Areas are **summed over the whole split** before dividing (dataset-level IoU).
* ``IoU_c = I_c / U_c``, ``Acc_c = I_c / GT_c``; a class with zero union (absent from both
  prediction and GT) gets NaN and is excluded from ``mIoU = nanmean(IoU)``; likewise ``mAcc``.
  ``aAcc = sum(I) / sum(GT area)``.
* Reported values are ×100 and rounded to 2 decimals (raw fractions are kept under ``raw``).

To replicate the out-of-range behaviour exactly, the accumulator keeps an *extended*
``(K+1, K+1)`` confusion matrix whose last row / column counts GT / prediction values outside
``0..K-1`` (ignore pixels excluded). ``ConfusionMatrix.matrix`` is its ``(K, K)`` in-range block
(rows = GT, columns = prediction, like torchvision's reference ``ConfusionMatrix``).

Only numpy is imported at module level; torch / mmengine are imported lazily.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ['confusion_matrix', 'areas_from_confusion', 'metrics_from_areas', 'ConfusionMatrix', 'evaluate_pairs']


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith('torch')


def confusion_matrix(pred, gt, num_classes: int = 21, ignore_index: int = 255,
                     extended: bool = False):
    """Confusion matrix ``M[gt, pred]`` (int64) of one map or a batch of maps.

    ``pred`` and ``gt`` are integer arrays of the same shape (numpy or torch; a torch input
    is counted on its own device and a torch tensor is returned). Pixels with
    ``gt == ignore_index`` are dropped. With ``extended=False`` the result is ``(K, K)`` and
    pixels whose prediction or GT lies outside ``0..K-1`` are not in it; with
    ``extended=True`` it is ``(K+1, K+1)`` and index ``K`` collects those out-of-range values
    (needed to reproduce mmseg exactly, see the module docstring).
    """
    k = int(num_classes)
    if tuple(pred.shape) != tuple(gt.shape):
        raise ValueError(f'prediction shape {tuple(pred.shape)} != ground-truth shape {tuple(gt.shape)}')
    n = k + 1
    if _is_torch(pred) or _is_torch(gt):
        import torch
        pred_t = torch.as_tensor(pred)
        gt_t = torch.as_tensor(gt, device=pred_t.device)
        p = pred_t.reshape(-1).long()
        g = gt_t.reshape(-1).long()
        keep = g != ignore_index
        p, g = p[keep], g[keep]
        p = torch.where((p >= 0) & (p < k), p, torch.full_like(p, k))
        g = torch.where((g >= 0) & (g < k), g, torch.full_like(g, k))
        m = torch.bincount(g * n + p, minlength=n * n).reshape(n, n)
        return m if extended else m[:k, :k].contiguous()
    p = np.asarray(pred).reshape(-1).astype(np.int64, copy=False)
    g = np.asarray(gt).reshape(-1).astype(np.int64, copy=False)
    keep = g != ignore_index
    p, g = p[keep], g[keep]
    p = np.where((p >= 0) & (p < k), p, k)
    g = np.where((g >= 0) & (g < k), g, k)
    m = np.bincount(g * n + p, minlength=n * n).reshape(n, n).astype(np.int64, copy=False)
    return m if extended else np.ascontiguousarray(m[:k, :k])


def areas_from_confusion(hist: np.ndarray, num_classes: int) -> tuple[np.ndarray, ...]:
    """``(intersect, union, pred_area, gt_area)`` per class, as mmseg's ``intersect_and_union``.

    ``hist`` is ``(K, K)`` or extended ``(K+1, K+1)`` (rows GT, columns prediction).
    """
    hist = np.asarray(hist, dtype=np.int64)
    k = int(num_classes)
    intersect = np.diag(hist)[:k]
    gt_area = hist[:k, :].sum(axis=1)      # includes out-of-range predictions on valid GT
    pred_area = hist[:, :k].sum(axis=0)    # includes out-of-range GT under valid predictions
    union = pred_area + gt_area - intersect
    return intersect, union, pred_area, gt_area


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.asarray(a, dtype=np.float64) / np.asarray(b, dtype=np.float64)


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.mean(x[~np.isnan(x)])) if (~np.isnan(x)).any() else float('nan')


def _report(v: float) -> float | None:
    """×100, rounded to 2 decimals; NaN -> None (JSON null)."""
    return None if v is None or math.isnan(v) else round(float(v) * 100.0, 2)


def _raw(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


def metrics_from_areas(intersect, union, pred_area, gt_area,
                       class_names: Sequence[str] | None = None) -> dict:
    """mmseg ``total_area_to_metrics`` + its summary, as a JSON-safe dict.

    Returns ``{'mIoU', 'aAcc', 'mAcc'}`` (×100, 2 decimals), ``'IoU'`` and ``'Acc'``
    (``{class_name: value or None}``, ×100, 2 decimals; None where the class has zero union /
    zero GT area) and ``'raw'`` (the same quantities as unrounded fractions in 0..1, per-class
    values as lists in class order; NaN as None).
    """
    intersect = np.asarray(intersect, dtype=np.float64)
    k = intersect.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise ValueError(f'{len(names)} class names for {k} classes')
    iou = _div(intersect, union)
    acc = _div(intersect, gt_area)
    total_gt = float(np.asarray(gt_area, dtype=np.float64).sum())
    a_acc = float(intersect.sum() / total_gt) if total_gt > 0 else float('nan')
    m_iou, m_acc = _nanmean(iou), _nanmean(acc)
    return {
        'mIoU': _report(m_iou),
        'aAcc': _report(a_acc),
        'mAcc': _report(m_acc),
        'IoU': {n: _report(v) for n, v in zip(names, iou.tolist())},
        'Acc': {n: _report(v) for n, v in zip(names, acc.tolist())},
        'raw': {
            'mIoU': _raw(m_iou), 'aAcc': _raw(a_acc), 'mAcc': _raw(m_acc),
            'IoU': [_raw(v) for v in iou.tolist()],
            'Acc': [_raw(v) for v in acc.tolist()],
        },
    }


class ConfusionMatrix:
    """Accumulates an (extended) confusion matrix over a split; ``compute()`` gives mmseg metrics.

    >>> cm = ConfusionMatrix(21)
    >>> for pred, gt in pairs: cm.update(pred, gt)   # (H, W) or (B, H, W), numpy or torch
    >>> cm.all_reduce()                               # sum over ranks (no-op when not distributed)
    >>> cm.compute()['mIoU']
    """

    def __init__(self, num_classes: int = 21, ignore_index: int = 255,
                 class_names: Sequence[str] | None = None) -> None:
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)
        if class_names is None and self.num_classes == 21:
            from wsss.utils.voc_meta import SEG_CLASSES
            class_names = SEG_CLASSES
        self.class_names = list(class_names) if class_names is not None else [
            str(i) for i in range(self.num_classes)]
        if len(self.class_names) != self.num_classes:
            raise ValueError(f'{len(self.class_names)} class names for {self.num_classes} classes')
        self.hist = np.zeros((self.num_classes + 1,) * 2, dtype=np.int64)
        self.num_images = 0

    # ---------------------------------------------------------------- accumulate
    def update(self, pred, gt, num_images: int | None = None) -> 'ConfusionMatrix':
        """Add one map ``(H, W)`` or a batch ``(B, H, W)``; ``num_images`` defaults to 1 / B."""
        m = confusion_matrix(pred, gt, self.num_classes, self.ignore_index, extended=True)
        if _is_torch(m):
            m = m.cpu().numpy()
        self.hist += m
        if num_images is None:
            num_images = int(pred.shape[0]) if len(pred.shape) == 3 else 1
        self.num_images += int(num_images)
        return self

    def merge(self, other: 'ConfusionMatrix') -> 'ConfusionMatrix':
        """Add another accumulator's counts (e.g. from a worker process)."""
        if other.num_classes != self.num_classes or other.ignore_index != self.ignore_index:
            raise ValueError('cannot merge confusion matrices with different num_classes / ignore_index')
        self.hist += other.hist
        self.num_images += other.num_images
        return self

    def all_reduce(self) -> 'ConfusionMatrix':
        """Sum the counts over all ranks (``mmengine.dist``; a no-op when not distributed)."""
        from mmengine import dist
        if dist.get_world_size() <= 1:
            return self
        import torch
        flat = np.concatenate([self.hist.reshape(-1), [self.num_images]]).astype(np.int64)
        t = torch.from_numpy(flat)
        dist.all_reduce(t, op='sum')
        out = t.cpu().numpy()
        self.hist = out[:-1].reshape(self.hist.shape).astype(np.int64)
        self.num_images = int(out[-1])
        return self

    # ---------------------------------------------------------------- results
    @property
    def matrix(self) -> np.ndarray:
        """The ``(K, K)`` in-range block, rows = GT, columns = prediction."""
        return self.hist[:self.num_classes, :self.num_classes].copy()

    def areas(self) -> tuple[np.ndarray, ...]:
        """``(intersect, union, pred_area, gt_area)``: mmseg's totals over the split."""
        return areas_from_confusion(self.hist, self.num_classes)

    def compute(self) -> dict:
        """``{'mIoU','aAcc','mAcc','IoU':{cls:..},'Acc':{cls:..},'num_images','raw':{..}}``.

        Report values are ×100 rounded to 2 decimals; NaN (class absent from prediction and
        GT) is ``None`` and excluded from the means. JSON-safe.
        """
        out = metrics_from_areas(*self.areas(), class_names=self.class_names)
        out['num_images'] = self.num_images
        return out


def evaluate_pairs(pairs: Iterable[tuple[Any, Any]], num_classes: int = 21, ignore_index: int = 255,
                   class_names: Sequence[str] | None = None) -> dict:
    """Convenience: ``ConfusionMatrix`` over an iterable of ``(pred, gt)`` maps, then ``compute()``."""
    cm = ConfusionMatrix(num_classes, ignore_index, class_names)
    for pred, gt in pairs:
        cm.update(pred, gt)
    return cm.compute()
