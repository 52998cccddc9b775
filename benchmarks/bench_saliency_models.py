#!/usr/bin/env python
"""Saliency models side by side: InSPyReNet and BiRefNet inference throughput on the same images in the same run,
end to end through ``make_saliency_maps`` (JPEG decode, the model's own pre-processing resize, forward,
post-processing, PNG write). Random weights (timings do not depend on them).

    python benchmarks/bench_saliency_models.py --num-images 2                            # CPU
    python benchmarks/bench_saliency_models.py --device cuda --amp --num-images 32 --batch-size 8

Default models: InSPyReNet Res2Net-50 at 384² and Swin-B at 384² (static), BiRefNet Swin-T at 1024² and at 512²
(the lower resolution the README prices in SOD quality), BiRefNet Swin-L at 1024². Prints images/s per model
(fp32, and AMP float16 on CUDA with ``--amp``) and ratios to the first model; ``--out FILE`` writes JSON.
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from PIL import Image  # noqa: E402

from bench_saliency import report  # noqa: E402  (this folder)

#: name -> (config, base size)
MODELS = {
    'InSPyReNet R50 384': ('configs/saliency/inspyrenet_res2net50_duts.py', (384, 384)),
    'InSPyReNet Swin-B 384': ('configs/saliency/inspyrenet_swinb_duts.py', (384, 384)),
    'BiRefNet Swin-T 1024': ('configs/saliency/birefnet_swin_v1_t_duts.py', (1024, 1024)),
    'BiRefNet Swin-T 512': ('configs/saliency/birefnet_swin_v1_t_duts.py', (512, 512)),
    'BiRefNet Swin-L 1024': ('configs/saliency/birefnet_swin_v1_l_duts.py', (1024, 1024)),
}


def build(config: str, base_size) -> torch.nn.Module:
    import wsss.models.saliency  # noqa: F401
    from wsss.registry import SALIENCY_MODELS
    mcfg = dict(Config.fromfile(config).model)
    mcfg['backbone'] = dict(mcfg['backbone'], pretrained=None)
    mcfg['base_size'] = list(base_size)
    return SALIENCY_MODELS.build(mcfg).eval()


def write_images(d: Path, n: int, size_hw=(375, 500)) -> list[tuple[str, Path]]:
    rng = np.random.default_rng(0)
    (d / 'img').mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = d / 'img' / f'{i:05d}.jpg'
        Image.fromarray(rng.integers(0, 255, (*size_hw, 3), dtype=np.uint8)).save(p)
        out.append((f'{i:05d}', p))
    return out


def images_per_s(model, imgs, out_dir: Path, device, batch: int, amp: bool) -> float:
    from wsss.saliency.inference import make_saliency_maps
    # warm-up on one batch (kernel selection, allocator), then the timed run into a fresh folder
    make_saliency_maps(model, imgs[:batch], out_dir / 'warm', batch_size=batch, device=device, amp=amp,
                       progress=False, num_workers=2)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    t = time.perf_counter()
    make_saliency_maps(model, imgs, out_dir / 'run', batch_size=batch, device=device, amp=amp, progress=False,
                       num_workers=2)
    return len(imgs) / (time.perf_counter() - t)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    p.add_argument('--num-images', type=int, default=2)
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--amp', action='store_true', help='also time float16 autocast (CUDA only)')
    p.add_argument('--threads', type=int, default=None, help='torch.set_num_threads (CPU)')
    p.add_argument('--out', default=None)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    info = {'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else
            (platform.processor() or platform.machine()), 'threads': torch.get_num_threads(),
            'num_images': a.num_images, 'batch_size': a.batch_size, 'image_size': [375, 500],
            'torch': torch.__version__}
    res = {}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        imgs = write_images(d, a.num_images)
        for name in a.models:
            config, size = MODELS[name]
            model = build(config, size).to(device)
            res[f'{name} fp32'] = images_per_s(model, imgs, d / name / 'fp32', device, a.batch_size, False)
            if a.amp and device.type == 'cuda':
                res[f'{name} amp'] = images_per_s(model, imgs, d / name / 'amp', device, a.batch_size, True)
            del model
    base = next(iter(res))
    ratios = {f'{k} / {base}': v / res[base] for k, v in res.items() if k != base}
    for k in [k for k in res if k.endswith(' amp')]:
        ratios[f'{k} / fp32'] = res[k] / res[k[:-4] + ' fp32']
    return report(info, res, ratios, a.out)


if __name__ == '__main__':
    main()
