#!/usr/bin/env python
"""Saliency maps for a data set with a trained InSPyReNet (official ``latest.pth`` / transparent-background
``ckpt_*.pth`` or our ``{'state_dict', 'meta'}`` checkpoints).

    python tools/make_saliency.py configs/saliency/inspyrenet_res2net50_duts.py --checkpoint latest.pth \\
        --data-root data/VOC2012 --split train_aug --out-name inspyrenet_r50 [--batch-size 8] \\
        [--mode static|dynamic|blend] [--device cuda --amp] [--shard-rank 0 --shard-world 4]

Maps go to <data_root>/saliency/<out-name>/<id>.png (8-bit, image size); use them in a CAM config with
saliency_source=dict(type='FolderSaliency'), saliency_dir='saliency/<out-name>'. Re-running skips existing
maps (resumable); shards (or torchrun's RANK/WORLD_SIZE) split the list between processes.
"""
from pathlib import Path

from wsss.engine.cli import add_config_args, make_parser, parse_config
from wsss.stages.saliency import infer


def main(argv=None) -> dict:
    p = make_parser(__doc__)
    add_config_args(p)
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
    args, cfg = parse_config(p, argv)
    if not args.out_name and not args.out_dir:
        p.error('give --out-name (maps in <data_root>/saliency/<name>) or --out-dir')
    out_dir = Path(args.out_dir) if args.out_dir else Path(args.data_root) / 'saliency' / args.out_name
    stats = infer.run(cfg, args.checkpoint, args.data_root, out_dir, split=args.split, img_dir=args.img_dir,
                      batch_size=args.batch_size, mode=args.mode, base_size=args.base_size,
                      threshold=args.threshold, device=args.device, amp=args.amp, tf32=args.tf32,
                      num_workers=args.num_workers, shard_rank=args.shard_rank, shard_world=args.shard_world,
                      overwrite=args.overwrite, progress=not args.no_progress)
    print(f"saliency maps: {stats['written']} written, {stats['skipped']} already there, shard "
          f"{stats['rank']}/{stats['world_size']} -> {out_dir} ({stats['seconds']} s)")
    return stats


if __name__ == '__main__':
    main()
