"""Simulated saliency maps of a sample: a good one (what a decent salient-object detector gives) and a poor
one (misses objects, fires on the class contexts), written to ``saliency/good`` and ``saliency/poor``."""
from __future__ import annotations

import numpy as np

from wsss.datasets.synthetic import params
from wsss.datasets.synthetic.filters import gauss_blur
from wsss.datasets.synthetic.scene import Sample, sample_rng
from wsss.datasets.synthetic.shapes import smooth_noise
from wsss.utils.region_codes import REGION_CONTEXT


def saliency_maps(sample: Sample, seed: int, split: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulated (good, poor) saliency maps, uint8 (H, W).

    good: the union of the visible objects, slightly blurred, small noise.
    poor: misses each object with probability ``SAL_POOR_MISS``, fires on the visible contexts in
    ``SAL_POOR_CONTEXT`` of the images, blurrier and noisier (constants in
    :mod:`wsss.datasets.synthetic.params`).
    """
    h, w = sample.label.shape
    s = h / 128.0
    out = []
    for stream, (blur, noise) in ((1, (params.SAL_GOOD_BLUR, params.SAL_GOOD_NOISE)),
                                  (2, (params.SAL_POOR_BLUR, params.SAL_POOR_NOISE))):
        rng = sample_rng(seed, split, index, stream)
        val = np.zeros(len(sample.objects) + 1, dtype=np.float32)
        for k in range(len(sample.objects)):
            if stream == 1:
                val[k + 1] = rng.uniform(0.85, 1.0)
            else:
                val[k + 1] = 0.0 if rng.random() < params.SAL_POOR_MISS else rng.uniform(0.55, 0.95)
        m = val[sample.instances]
        if stream == 2 and rng.random() < params.SAL_POOR_CONTEXT:
            ctx = sample.regions == REGION_CONTEXT
            m = np.where(ctx, np.maximum(m, rng.uniform(0.4, 0.8)), m)
        m = gauss_blur(m, blur * s)
        low = smooth_noise(rng, h, w, 4) - 0.5
        m = m + noise * rng.standard_normal((h, w), dtype=np.float32) + 2 * noise * low
        out.append(np.clip(np.round(m * 255), 0, 255).astype(np.uint8))
    return out[0], out[1]
