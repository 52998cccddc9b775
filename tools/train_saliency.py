#!/usr/bin/env python
"""Train a saliency model (InSPyReNet) on DUTS-layout data.

    python tools/train_saliency.py configs/saliency/inspyrenet_res2net50_synthetic.py --work-dir work_dirs/sal_syn
    python tools/train_saliency.py configs/saliency/inspyrenet_swinb_duts.py --work-dir work_dirs/sal_swinb \\
        --cfg-options data_root=data/DUTS-TR \\
        model.backbone.pretrained=data/backbone_ckpt/swin_base_patch4_window12_384_22kto1k.pth
Multi-GPU: torchrun --nproc_per_node N tools/train_saliency.py CONFIG (train_cfg.batch_size is the global batch).

Writes latest.pth (resumable), final.pth = {'state_dict', 'meta': {'base_size', 'backbone', ...}} (usable by
tools/make_saliency.py), config.py, train.log, metrics.json (final losses, plus MAE / max F / S / mean E on
eval_split when the config names one).
"""
from wsss.engine.cli import parse_config, training_parser
from wsss.stages.saliency import train


def main(argv=None):
    args, cfg = parse_config(training_parser(__doc__), argv)
    return train.run(cfg, args.work_dir, resume=args.resume, stop_at=args.stop_at)


if __name__ == '__main__':
    main()
