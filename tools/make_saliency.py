"""Saliency maps for a data set with a trained InSPyReNet (official ``latest.pth`` / transparent-background
``ckpt_*.pth`` or our ``{'state_dict', 'meta'}`` checkpoints).

    python tools/make_saliency.py configs/saliency/inspyrenet_res2net50_duts.py --checkpoint latest.pth \
        --data-root data/VOC2012 --split train_aug --out-name inspyrenet_r50 [--batch-size 8] \
        [--mode static|dynamic|blend] [--device cuda --amp] [--shard-rank 0 --shard-world 4]

Maps go to ``<data_root>/saliency/<out-name>/<id>.png`` (8-bit, image size); use them in a CAM config with
``saliency_source=dict(type='FolderSaliency'), saliency_dir='saliency/<out-name>'``. Re-running skips existing
maps (resumable); shards (or torchrun's RANK/WORLD_SIZE) split the list between processes.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmengine.config import Config, DictAction  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='saliency config (configs/saliency/...)')
    p.add_argument('--checkpoint', required=True,
                   help='official latest.pth, transparent-background ckpt_base/ckpt_fast.pth, or our final.pth')
    p.add_argument('--data-root', required=True, help='VOC-format (JPEGImages/) or DUTS-format (Image/) folder')
    p.add_argument('--split', default=None, help='list file or VOC split name; default: every image')
    p.add_argument('--img-dir', default=None, help='image folder under data root (JPEGImages / Image)')
    p.add_argument('--out-name', default=None, help='maps go to <data_root>/saliency/<out-name>')
    p.add_argument('--out-dir', default=None, help='explicit output folder (instead of --out-name)')
    p.add_argument('--batch-size', type=int, default=8, help='images per forward (grouped by resized size)')
    p.add_argument('--mode', choices=['static', 'dynamic', 'blend'], default=None,
                   help='default: inference.mode of the config, else static')
    p.add_argument('--base-size', type=int, nargs=2, default=None, metavar=('H', 'W'),
                   help='inference size; must equal the size the checkpoint was trained at (checked)')
    p.add_argument('--threshold', type=int, default=None, help='pyramid blending threshold (blend mode)')
    p.add_argument('--device', default=None, help='cpu | cuda | cuda:N (default: cuda if available)')
    p.add_argument('--amp', action='store_true', help='float16 autocast (CUDA only)')
    p.add_argument('--tf32', action='store_true', help='allow TF32 on CUDA (off by default, as officially)')
    p.add_argument('--num-workers', type=int, default=2, help='data-loading worker processes')
    p.add_argument('--shard-rank', type=int, default=None,
                   help='this shard of the list (default: torchrun RANK, else 0)')
    p.add_argument('--shard-world', type=int, default=None,
                   help='number of shards (default: torchrun WORLD_SIZE, else 1)')
    p.add_argument('--overwrite', action='store_true', help='recompute maps that already exist')
    p.add_argument('--no-progress', action='store_true', help='no progress bar')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys (key=value)')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    import torch

    from wsss.saliency.make_maps import (build_saliency_model, list_images, make_saliency_maps, shard_from_env,
                                         write_run_record)
    args = parse_args(argv)
    if not args.out_name and not args.out_dir:
        raise SystemExit('give --out-name (maps in <data_root>/saliency/<name>) or --out-dir')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inf = dict(cfg.get('inference', None) or {})
    mode = args.mode or inf.get('mode', 'static')
    threshold = args.threshold if args.threshold is not None else inf.get('threshold', -1)
    rank, world = shard_from_env(args.shard_rank, args.shard_world)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and 'LOCAL_RANK' in os.environ:
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"
    model = build_saliency_model(cfg, args.checkpoint, args.base_size)
    images = list_images(args.data_root, args.split, args.img_dir)
    out_dir = Path(args.out_dir) if args.out_dir else Path(args.data_root) / 'saliency' / args.out_name
    t0 = time.time()
    stats = make_saliency_maps(model, images, out_dir, mode=mode, threshold=threshold, L=inf.get('L', 1280),
                               batch_size=args.batch_size, device=device, amp=args.amp, tf32=args.tf32,
                               num_workers=args.num_workers, rank=rank, world_size=world,
                               overwrite=args.overwrite, progress=not args.no_progress)
    stats.update(seconds=round(time.time() - t0, 2), checkpoint=str(args.checkpoint), config=str(args.config),
                 device=str(device), amp=bool(args.amp), out_dir=str(out_dir))
    write_run_record(out_dir, stats, rank)
    print(f"saliency maps: {stats['written']} written, {stats['skipped']} already there, shard {rank}/{world} "
          f"-> {out_dir} ({stats['seconds']} s)")
    return stats


if __name__ == '__main__':
    main()
