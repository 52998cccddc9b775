#!/usr/bin/env python
"""Dense-CRF backends (``wsss.crf``) at VOC scale: 500x375 images, DeepLab-v2 VOC parameters, 10 iterations.

    python benchmarks/bench_crf.py                      # CPU: pydensecrf 21 vs 3 labels, torch on CPU, the pool
    python benchmarks/bench_crf.py --device cuda        # GPU: the torch backend (21 labels) vs pydensecrf on one core

CPU mode prints images/s of pydensecrf (one core) with 21 labels and with 3 (background + 2 present classes,
the pseudo-label case), of the torch backend on the CPU (one thread, and ``torch.get_num_threads()`` threads), and of
``eval_seg``'s CRF step (:func:`wsss.stages.seg.evaluate.crf_label`) serial vs in a pool of ``--workers``
processes (the pool started and warmed before timing). CUDA mode prints the torch backend's images/s with 21
and 3 labels (after warm-up, synchronised), and with ``--batch`` images sharing one lattice build
(:func:`wsss.crf.dense_crf_many`), beside pydensecrf's on one core in the same run, and the CUDA
marginals' max difference and argmax agreement with pydensecrf's on the 21-label image. The inputs are a
smooth synthetic image with edges and noise and smooth random class probabilities (timings hardly depend on
content, except the bilateral lattice size, which is printed). ``--out FILE`` writes JSON.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from bench_saliency import report  # noqa: E402  (this folder)
from wsss.crf import CRFParams, dense_crf, dense_crf_many  # noqa: E402
from wsss.crf.backend_torch import pixel_features  # noqa: E402
from wsss.crf.lattice import PermutohedralLattice  # noqa: E402
from wsss.stages.seg.evaluate import _crf_task, _init_crf_worker, crf_label  # noqa: E402


def scene(k: int, seed: int = 0, h: int = 375, w: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (h, w, 3) image (smooth colours, a few regions, sensor noise) and float32 (k, h, w) probabilities."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([127 + 80 * np.sin(xx / (40 + 9 * c)) * np.cos(yy / (30 + 7 * c)) for c in range(3)], -1)
    img[(xx - w / 2) ** 2 / 4 + (yy - h / 2) ** 2 < (h / 3) ** 2] += 50
    img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    low = torch.from_numpy(rng.normal(0, 3, (1, k, h // 25, w // 25)).astype(np.float32))
    logits = F.interpolate(low, size=(h, w), mode='bilinear', align_corners=False)[0]
    return img, torch.softmax(logits, 0).numpy()


def per_second(fn, n: int, sync=lambda: None) -> float:
    sync()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    sync()
    return n / (time.perf_counter() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    p.add_argument('--repeats', type=int, default=2, help='images per timed measurement (pydensecrf, torch)')
    p.add_argument('--workers', type=int, default=2, help='CRF processes of the pool measurement (CPU mode)')
    p.add_argument('--pool-images', type=int, default=4, help='images through the serial loop and the pool')
    p.add_argument('--batch', type=int, default=8, help='images sharing one lattice (CUDA mode)')
    p.add_argument('--out', help='write the results as JSON')
    a = p.parse_args(argv)
    dev = torch.device(a.device)
    params = CRFParams.deeplab_v2()
    img21, p21 = scene(21)
    img3, p3 = img21, np.concatenate([p21[:1], p21[5:7]])
    p3 = p3 / p3.sum(0, keepdims=True)
    lat = PermutohedralLattice(pixel_features(torch.from_numpy(img21), params.bi_xy_std, params.bi_rgb_std))
    info = {'device': a.device, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
            'cpu': platform.processor() or platform.machine(), 'image': '500x375', 'params': 'deeplab_v2',
            'bilateral_lattice_M_over_N': round(lat.M / (375 * 500), 3)}
    if dev.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(dev)
    res = {}
    res['pydensecrf 21 labels (1 core)'] = per_second(lambda: dense_crf(img21, p21, params, 'pydensecrf'),
                                                      a.repeats)
    res['pydensecrf 3 labels (1 core)'] = per_second(lambda: dense_crf(img3, p3, params, 'pydensecrf'), a.repeats)
    if dev.type == 'cuda':
        ref, ours = dense_crf(img21, p21, params, 'pydensecrf'), dense_crf(img21, p21, params, 'torch', dev)
        info['cuda_vs_pydensecrf'] = {'max_abs_marginal_diff': float(np.abs(ours - ref).max()),
                                      'argmax_agreement': float((ours.argmax(0) == ref.argmax(0)).mean())}
        sync = torch.cuda.synchronize
        for k, (im, pr) in {21: (img21, p21), 3: (img3, p3)}.items():
            dense_crf(im, pr, params, 'torch', dev)                          # warm-up
            res[f'torch {k} labels ({dev.type})'] = per_second(lambda: dense_crf(im, pr, params, 'torch', dev),
                                                               max(a.repeats, 10), sync)
        batch = [scene(21, seed=s) for s in range(a.batch)]
        imgs, probs = [b[0] for b in batch], [b[1] for b in batch]
        dense_crf_many(imgs, probs, params, 'torch', dev)                     # warm-up
        res[f'torch 21 labels ({dev.type}), {a.batch} images per lattice'] = per_second(
            lambda: dense_crf_many(imgs, probs, params, 'torch', dev), 3, sync) * a.batch
    else:
        threads = torch.get_num_threads()
        for t in sorted({1, threads}):
            torch.set_num_threads(t)
            res[f'torch 21 labels (cpu, {t} thr)'] = per_second(
                lambda: dense_crf(img21, p21, params, 'torch', 'cpu'), 1)
            res[f'torch 3 labels (cpu, {t} thr)'] = per_second(lambda: dense_crf(img3, p3, params, 'torch', 'cpu'), 1)
        torch.set_num_threads(threads)
        jobs = [(*scene(21, seed=s), params) for s in range(a.pool_images)]
        res['eval_seg CRF step, serial'] = per_second(lambda: [crf_label(*j) for j in jobs], 1) * len(jobs)
        with mp.get_context('spawn').Pool(a.workers, initializer=_init_crf_worker) as pool:
            pool.map(_crf_task, jobs[:a.workers])                             # start + warm the workers
            res[f'eval_seg CRF step, {a.workers} processes'] = per_second(
                lambda: pool.map(_crf_task, jobs), 1) * len(jobs)
    base = res['pydensecrf 21 labels (1 core)']
    ratios = {f'{k} / pydensecrf 21': v / base for k, v in res.items() if k != 'pydensecrf 21 labels (1 core)'}
    return report(info, res, ratios, a.out)


if __name__ == '__main__':
    main()
