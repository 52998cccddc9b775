"""Pseudo-label rules: fused CAMs (+ saliency) -> label map and CRF-ready class probabilities.

Interface (``PSEUDO_RULES``, built from the config as ``dict(type='EPSRule', bg_score=0.2)``)::

    label, probs = rule(cams, cls_label, saliency)

- ``cams``: float (C, H, W) fused multi-scale maps (``wsss.pseudo.cam_infer.multiscale_cam``), non-negative;
- ``cls_label``: (C,) 0/1 image-level labels; ``saliency``: (H, W) float in [0, 1] or None;
- ``label``: uint8 (H, W), 0 background, k+1 for class k, 255 ignore;
- ``probs``: float32 (K, H, W), K = 1 + #present classes, channel 0 background and channel i the i-th present
  class in ascending class order (``np.flatnonzero(cls_label)``); each pixel sums to 1 (the rule's scores
  divided by their sum), so ``-log(probs)`` is a CRF unary. For :class:`EPSRule` ``argmax(probs)`` equals ``label``.

Per-class normalisation (all rules, official EPS/PSA ``infer.py``): absent classes are zeroed and each present
class is divided by its maximum over the image plus 1e-5: ``N_k = cams_k / (max_xy cams_k + 1e-5)``.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from wsss.registry import PSEUDO_RULES

IGNORE = 255
NORM_EPS = 1e-5


def normalize_cams(cams: np.ndarray, cls_label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(present class indices, N)`` with ``N`` (P, H, W) = present cams / (their max + 1e-5)."""
    cams = np.asarray(cams, np.float32)
    present = np.flatnonzero(np.asarray(cls_label).reshape(-1) > 1e-5)            # official: label > 1e-5
    sel = cams[present]
    if not len(present):
        return present, np.zeros((0,) + cams.shape[1:], np.float32)
    return present, sel / (sel.reshape(len(present), -1).max(-1)[:, None, None] + NORM_EPS)


def _to_label(idx: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Channel index over [bg] + present -> VOC label (0, k+1)."""
    lut = np.concatenate([[0], present + 1]).astype(np.uint8)
    return lut[idx]


def _probs(scores: np.ndarray) -> np.ndarray:
    scores = np.clip(scores.astype(np.float32), 0, None)
    return (scores / np.maximum(scores.sum(0, keepdims=True), 1e-12)).astype(np.float32)


@PSEUDO_RULES.register_module()
class EPSRule:
    """Official EPS/PSA ``infer.py`` rule: constant background score, argmax, no ignore pixels.

    ``scores = [bg_score, N_k for present k]`` (absent classes zeroed, per-class max normalisation with +1e-5),
    ``label = argmax`` (ties go to the lower index, i.e. to the background, as ``np.argmax``).
    ``probs`` are these scores divided by their per-pixel sum.
    """

    def __init__(self, bg_score: float = 0.2):
        self.bg_score = float(bg_score)

    def __call__(self, cams: np.ndarray, cls_label: np.ndarray, saliency: Optional[np.ndarray] = None):
        present, norm = normalize_cams(cams, cls_label)
        scores = np.concatenate([np.full((1,) + norm.shape[1:], self.bg_score, np.float32), norm], 0)
        return _to_label(scores.argmax(0), present), _probs(scores)

    def __repr__(self) -> str:
        return f'EPSRule(bg_score={self.bg_score})'


@PSEUDO_RULES.register_module()
class SaliencyProxyRule:
    """SeeNet-style proxy ground truth: saliency decides object vs. background, attention decides the class.

    With S the saliency, ``A = max_k N_k`` and ``k* = argmax_k N_k`` over present classes:

    - ``S >= sal_thr`` and ``A > fg_thr``       -> class ``k*`` (salient and explained by an attention map);
    - ``S <  sal_thr`` and ``A <= conflict_thr`` -> background (not salient, no strong attention);
    - otherwise -> 255: salient but no class attends to it (``A <= fg_thr``), or strong attention
      (``A > conflict_thr``) on a non-salient pixel (saliency and attention conflict).

    Defaults ``sal_thr=0.5`` (the saliency PNG binarised at 128/255), ``fg_thr=0.2`` (EPS's background
    score), ``conflict_thr=0.5``. The SeeNet paper merges attention and saliency in this spirit; its exact
    thresholds are not given in the material we have, so these are our documented choices.
    ``probs``: ``[1 − S, S · N_k]`` divided by their per-pixel sum; with ``relative=True``
    ``[1 − S, S · N_k / Σ_j N_j]``: saliency alone decides object vs background and the attention maps only
    share the object mass among the present classes (a CRF over these probs labels unattended salient pixels
    with the class that attends to them most instead of background).
    """

    def __init__(self, sal_thr: float = 0.5, fg_thr: float = 0.2, conflict_thr: float = 0.5,
                 relative: bool = False):
        self.sal_thr, self.fg_thr, self.conflict_thr = float(sal_thr), float(fg_thr), float(conflict_thr)
        self.relative = bool(relative)

    def __call__(self, cams: np.ndarray, cls_label: np.ndarray, saliency: Optional[np.ndarray] = None):
        if saliency is None:
            raise ValueError('SaliencyProxyRule needs a saliency map (configure a saliency source)')
        present, norm = normalize_cams(cams, cls_label)
        sal = np.asarray(saliency, np.float32)
        if sal.shape != norm.shape[1:]:
            raise ValueError(f'saliency shape {sal.shape} != CAM shape {norm.shape[1:]}')
        if len(present):
            peak, cls = norm.max(0), _to_label(norm.argmax(0) + 1, present)
        else:
            peak, cls = np.zeros(sal.shape, np.float32), np.zeros(sal.shape, np.uint8)
        salient = sal >= self.sal_thr
        label = np.full(sal.shape, IGNORE, np.uint8)
        label[salient & (peak > self.fg_thr)] = cls[salient & (peak > self.fg_thr)]
        label[~salient & (peak <= self.conflict_thr)] = 0
        share = norm / np.maximum(norm.sum(0, keepdims=True), NORM_EPS) if self.relative else norm
        scores = np.concatenate([(1.0 - sal)[None], sal[None] * share], 0)
        return label, _probs(scores)

    def __repr__(self) -> str:
        return (f'SaliencyProxyRule(sal_thr={self.sal_thr}, fg_thr={self.fg_thr}, '
                f'conflict_thr={self.conflict_thr}, relative={self.relative})')
