#!/usr/bin/env python
"""InSPyReNet inference throughput: one image at a time vs batched, static 384x384 vs pyramid blending,
fp32 vs AMP (CUDA). Random weights (timings do not depend on them); every variant runs in the same process.

    python benchmarks/bench_saliency.py --num-images 4 --batch-size 4                # CPU, quick
    python benchmarks/bench_saliency.py --device cuda --amp --num-images 64 --batch-size 16 \
        --config configs/saliency/inspyrenet_swinb_duts.py --hr-size 1024 1024
    python benchmarks/bench_saliency.py --engine --num-images 8                      # + JPEG -> PNG engine

Prints one line per variant (images/s) and the ratios (batched / single, blend / static, AMP / fp32);
``--out FILE`` writes them as JSON.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_model(model, device, n, batch, size, hr_size=None, amp=False, repeats=1):
    """images/s of ``n`` images in batches of ``batch``: a single pass at ``size`` or, with ``hr_size``,
    pyramid blending (LR pass at ``size`` + HR pass at ``hr_size``), including post-processing to uint8."""
    from wsss.utils.imaging import minmax_normalize
    ctx = torch.autocast('cuda', dtype=torch.float16) if (amp and device.type == 'cuda') else torch.no_grad()
    lr_all = torch.randn(n, 3, *size, device=device)
    hr_all = torch.randn(n, 3, *hr_size, device=device) if hr_size else None

    def run_once():
        for s in range(0, n, batch):
            with torch.no_grad(), ctx:
                lr = lr_all[s:s + batch]
                if hr_all is None:
                    d0 = model(lr)['saliency'][3]
                else:
                    d0 = model.blend(model(lr), model(hr_all[s:s + batch]))
            p = minmax_normalize(torch.sigmoid(d0.float()))
            (p * 255).to(torch.uint8).cpu()

    with torch.no_grad(), ctx:  # warm-up at the batch size (kernel selection, allocator)
        if hr_all is None:
            model(lr_all[:batch])
        else:
            model.blend(model(lr_all[:batch]), model(hr_all[:batch]))
    sync(device)
    t = time.perf_counter()
    for _ in range(repeats):
        run_once()
    sync(device)
    dt = time.perf_counter() - t
    return n * repeats / dt


def time_engine(model, device, n, batch, amp, mode, size_hw, tf32=False):
    """End to end through wsss.saliency.inference (JPEG decode, resize, forward, resize back, PNG write)."""
    import numpy as np
    from PIL import Image

    from wsss.saliency.inference import make_saliency_maps
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        rng = np.random.default_rng(0)
        imgs = []
        for i in range(n):
            p = d / 'img' / f'{i:05d}.jpg'
            p.parent.mkdir(exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (*size_hw, 3), dtype=np.uint8)).save(p)
            imgs.append((f'{i:05d}', p))
        out = {}
        for b in (1, batch):
            t = time.perf_counter()
            make_saliency_maps(model, imgs, d / f'out{b}', mode=mode, batch_size=b, device=device, amp=amp,
                               progress=False, num_workers=4, tf32=tf32)
            out[b] = n / (time.perf_counter() - t)
        return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default='configs/saliency/inspyrenet_res2net50_duts.py')
    p.add_argument('--num-images', type=int, default=4)
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--size', type=int, nargs=2, default=None, help='static size (default: config base_size)')
    p.add_argument('--hr-size', type=int, nargs=2, default=[768, 768], help='HR size of the blending pass')
    p.add_argument('--no-blend', action='store_true')
    p.add_argument('--device', default='cpu')
    p.add_argument('--amp', action='store_true', help='also time float16 autocast (CUDA)')
    p.add_argument('--tf32', action='store_true', help='allow TF32 on CUDA for the fp32 runs (default off)')
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (CPU)')
    p.add_argument('--repeats', type=int, default=1)
    p.add_argument('--engine', action='store_true', help='also time the JPEG->PNG engine (static mode)')
    p.add_argument('--out', default=None)
    a = p.parse_args(argv)
    import wsss.models.saliency  # noqa: F401
    from wsss.registry import SALIENCY_MODELS
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    cfg = Config.fromfile(a.config)
    mcfg = dict(cfg.model)
    mcfg['backbone'] = dict(mcfg['backbone'], pretrained=None)
    model = SALIENCY_MODELS.build(mcfg).to(device).eval()
    size = tuple(a.size or model.base_size)
    n, b = a.num_images, a.batch_size
    info = {'device': str(torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor()
                          or platform.machine()),
            'threads': torch.get_num_threads(), 'config': a.config, 'num_images': n, 'batch_size': b,
            'size': list(size), 'hr_size': list(a.hr_size), 'tf32': bool(a.tf32), 'torch': torch.__version__}
    res = {}
    res['static_single'] = time_model(model, device, n, 1, size, repeats=a.repeats)
    res['static_batched'] = time_model(model, device, n, b, size, repeats=a.repeats)
    if not a.no_blend:
        res['blend_single'] = time_model(model, device, n, 1, size, tuple(a.hr_size), repeats=a.repeats)
        res['blend_batched'] = time_model(model, device, n, b, size, tuple(a.hr_size), repeats=a.repeats)
    if a.amp and device.type == 'cuda':
        res['static_batched_amp'] = time_model(model, device, n, b, size, amp=True, repeats=a.repeats)
        if not a.no_blend:
            res['blend_batched_amp'] = time_model(model, device, n, b, size, tuple(a.hr_size), amp=True,
                                                  repeats=a.repeats)
    if a.engine:
        eng = time_engine(model, device, n, b, a.amp and device.type == 'cuda', 'static', (375, 500), a.tf32)
        res['engine_single'], res['engine_batched'] = eng[1], eng[b]
    ratios = {'static batched/single': res['static_batched'] / res['static_single']}
    if 'blend_single' in res:
        ratios['blend batched/single'] = res['blend_batched'] / res['blend_single']
        ratios['blend/static (batched)'] = res['blend_batched'] / res['static_batched']
    if 'static_batched_amp' in res:
        ratios['amp/fp32 static batched'] = res['static_batched_amp'] / res['static_batched']
    if 'blend_batched_amp' in res:
        ratios['amp/fp32 blend batched'] = res['blend_batched_amp'] / res['blend_batched']
    if 'engine_single' in res:
        ratios['engine batched/single'] = res['engine_batched'] / res['engine_single']
    return report(info, res, ratios, a.out)


def report(info: dict, res: dict, ratios: dict, out=None) -> dict:
    """Print the run's device line, images/s and ratios; write them as JSON to ``out`` when given."""
    print(json.dumps(info))
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f'{k:{width}s} {v:9.3f} images/s')
    width = max((len(k) for k in ratios), default=0)
    for k, v in ratios.items():
        print(f'{k:{width}s} x{v:.3f}')
    if out:
        from wsss.utils.io import atomic_write_json
        atomic_write_json(out, {'info': info, 'images_per_s': res, 'ratios': ratios})
    return {'info': info, 'images_per_s': res, 'ratios': ratios}


if __name__ == '__main__':
    main()
