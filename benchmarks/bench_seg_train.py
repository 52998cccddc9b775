#!/usr/bin/env python
"""Segmenter training throughput (images/s) and peak memory, through the real ``IterTrainer``.

CPU:  1 vs 2 processes (torchrun, gloo), same global batch, DeepLab-v2 on EfficientNet-Lite0.
CUDA: fp32 vs AMP (bf16) + channels-last, DeepLab-v2 ResNet-101 at crop 321, batch 10 (the WSSS recipe).
Each comparison runs in the same invocation and prints ratios against its baseline.

    python benchmarks/bench_seg_train.py --device cpu --iters 6
    python benchmarks/bench_seg_train.py --device cuda --iters 30 --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


class RandomSegData(torch.utils.data.Dataset):
    """In-memory random images/labels: measures the model and trainer, not JPEG decoding."""

    def __init__(self, n: int, size: int):
        self.n, self.size = n, size

    def __len__(self):
        return self.n

    def __getitem__(self, key):
        index, seed = key
        g = torch.Generator().manual_seed(index * 7919 + seed)
        seg = torch.randint(0, 21, (self.size, self.size), generator=g)
        cls = torch.zeros(20)
        cls[seg.unique()[seg.unique() > 0] - 1] = 1
        return {'img': torch.randn(3, self.size, self.size, generator=g), 'seg': seg, 'cls_label': cls,
                'meta': {'id': str(index)}}


def _cfg(model_cfg: str, iters: int, batch: int, amp: bool, channels_last: bool, device: str):
    from mmengine.config import Config
    base = Config.fromfile(str(ROOT / model_cfg))
    # no pretrained file here: random init with frozen default BN statistics would blow up, so BN trains
    base.model.backbone.update(pretrained=None, norm_eval=False)
    optim = dict(type='AmpOptimWrapper', dtype='bfloat16') if amp else dict(type='OptimWrapper')
    optim.update(optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4))
    return Config(dict(model=base.model, optim_wrapper=optim,
                       param_scheduler=[dict(type='PolyLR', power=0.9, eta_min=0.0)],
                       train_cfg=dict(max_iters=iters, batch_size=batch, num_workers=2, log_interval=iters,
                                      ckpt_interval=10**9, seed=0, device=device, channels_last=channels_last)))


def run_once(model_cfg, iters, batch, size, amp, channels_last, device, warmup=3) -> dict:
    """Train ``warmup`` + ``iters`` iterations in this process; throughput over the timed part."""
    from wsss.engine.trainer import IterTrainer
    from wsss.registry import SEGMENTERS
    cfg = _cfg(model_cfg, warmup + iters, batch, amp, channels_last, device)
    model = SEGMENTERS.build(cfg.model)
    with tempfile.TemporaryDirectory() as tmp:
        tr = IterTrainer(model, RandomSegData(10**6, size), cfg, tmp, logger_name='bench')
        if tr.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(tr.device)
        marks = {}
        orig_step = tr.optim_wrapper.update_params

        def timed_update(loss, *a, **k):  # wall clock at the end of every iteration
            out = orig_step(loss, *a, **k)
            if tr.device.type == 'cuda':
                torch.cuda.synchronize(tr.device)
            marks[len(marks)] = time.perf_counter()
            return out
        tr.optim_wrapper.update_params = timed_update
        tr.train()
        t = [marks[i] for i in sorted(marks)]
        elapsed = t[-1] - t[warmup - 1]
        res = {'img_per_s': iters * batch / elapsed}
        if tr.device.type == 'cuda':
            res['peak_mem_gib'] = torch.cuda.max_memory_allocated(tr.device) / 2**30
        return res


def cpu_procs(args, nproc: int) -> dict:
    from wsss.engine.dist import torchrun_command
    env = {**os.environ, 'OMP_NUM_THREADS': str(max(1, (os.cpu_count() or 2) // nproc))}
    out = Path(tempfile.mkdtemp()) / 'r.json'
    cmd = torchrun_command(nproc, __file__, '--worker', '--device', 'cpu', '--iters', args.iters, '--batch',
                           args.batch, '--size', args.size, '--model', args.model, '--json', out)
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    res = json.loads(out.read_text())
    res['peak_rss_gib_per_proc'] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return res


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    p.add_argument('--iters', type=int, default=6, help='timed iterations (after 3 warm-up iterations)')
    p.add_argument('--batch', type=int, default=None, help='global batch (cpu 8, cuda 10)')
    p.add_argument('--size', type=int, default=None, help='crop size (cpu 112, cuda 321)')
    p.add_argument('--model', default=None, help='config providing `model` (cpu: lite0, cuda: R101)')
    p.add_argument('--json', help='write the results here')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args()
    cpu = args.device == 'cpu'
    args.batch = args.batch or (8 if cpu else 10)
    args.size = args.size or (112 if cpu else 321)
    args.model = args.model or ('configs/seg/deeplabv2_lite0_synthetic.py' if cpu else
                                'configs/seg/deeplabv2_r101_voc.py')
    if args.worker:
        from mmengine import dist
        res = run_once(args.model, args.iters, args.batch, args.size, False, False, 'cpu')
        if dist.get_rank() == 0:
            Path(args.json).write_text(json.dumps(res))
        return
    results = {'device': 'cpu' if cpu else torch.cuda.get_device_name(0), 'model': args.model,
               'batch': args.batch, 'size': args.size, 'iters': args.iters}
    if cpu:
        base = results['1 process'] = cpu_procs(args, 1)
        two = results['2 processes'] = cpu_procs(args, 2)
        results['ratio 2p/1p'] = two['img_per_s'] / base['img_per_s']
    else:
        base = results['fp32'] = run_once(args.model, args.iters, args.batch, args.size, False, False, 'cuda')
        amp = results['amp_bf16+channels_last'] = run_once(args.model, args.iters, args.batch, args.size, True,
                                                           True, 'cuda')
        results['speed-up'] = amp['img_per_s'] / base['img_per_s']
        results['memory ratio'] = amp['peak_mem_gib'] / base['peak_mem_gib']
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
