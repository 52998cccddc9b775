#!/usr/bin/env python
"""Robustness suite: the README's method claims over several variants of the synthetic set (other seeds, image
sizes, part sizes, context co-occurrence and placement, object counts), each with its mean and worst case.

On every variant the shipped CAM configs (configs/cam/<method>_lite0_synthetic.py, only data_root and
saliency_dir changed) train plain CAM, SeeNet, EPS and EPS + SeeNet with the good and the poor saliency maps
and make their pseudo-labels; with --seg-config the segmenter is also trained on the ground truth (the upper
bound) and on the best pseudo-labels, and its loss checked for spikes. Claims (bounds in wsss/drivers/robustness.py):
EPS seed mIoU >= plain CAM + 5 and EPS context -> fg <= half of CAM's on every variant; SeeNet body recall
>= CAM + 10 on every variant; poor saliency lowers EPS by >= 3 points on average; EPS + SeeNet >= both EPS and
SeeNet on average and never more than 1 point below either.

Example (each 128-px variant: 6 CAM trainings + 7 pseudo-label runs, ~12 min on 2 CPU cores; with --seg-config,
3 segmenter runs of ~9 min more; resumable; --variants picks some; two variant lists run side by side with
OMP_NUM_THREADS=1 and --num-workers 1 use 2 cores best):
    python tools/robustness.py --work-dir work_dirs/robustness \\
        --seg-config configs/seg/deeplabv2_lite0_synthetic.py --seg-ddp 2
The segmenter's rows alone (its divergence check and ground-truth upper bound per variant, no CAM runs):
    python tools/robustness.py --work-dir work_dirs/robustness --methods none \\
        --seg-config configs/seg/deeplabv2_lite0_synthetic.py --seg-ddp 2
The report goes to <work-dir>/robustness.{md,csv}. A candidate recipe is measured with its own configs
(--cam-configs) or keys (--cam-options), in its own --work-dir (finished runs there are reused), e.g.
    python tools/robustness.py --work-dir work_dirs/robustness_sgd --variants independent_like \\
        --cam-configs 'configs/cam/sgd/{method}_lite0_synthetic.py'
"""
from pathlib import Path

from mmengine.config import DictAction

from wsss.drivers.ablation import METHODS
from wsss.drivers.robustness import CAM_CONFIGS, VARIANTS, run_robustness
from wsss.engine.cli import make_parser


def main(argv=None):
    p = make_parser(__doc__)
    p.add_argument('--work-dir', default='work_dirs/robustness', help='one sub-folder per variant (resumable)')
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS),
                   help='variants to run (settings: VARIANTS in wsss/drivers/robustness.py)')
    p.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS + ('none',),
                   help='CAM methods to run; none: no CAM runs, only the segmenter on the ground truth '
                        '(with --seg-config; its divergence check and upper bound per variant)')
    p.add_argument('--seg-config', default=None,
                   help='segmenter config: also train it on the ground truth and on the best pseudo-labels')
    p.add_argument('--seg-ddp', type=int, default=0, metavar='N',
                   help='with --seg-config: also train the segmenter on the ground truth with N DDP processes '
                        '(torchrun, gloo on CPU), its loss checked for spikes as the single-process run\'s')
    p.add_argument('--num-workers', type=int, default=2, help='CPU processes for pseudo-labels')
    p.add_argument('--cam-configs', default=CAM_CONFIGS, metavar='PATTERN',
                   help='the CAM configs, {method} standing for cam / seenet / eps / eps_seenet (default: the shipped '
                        'ones)')
    p.add_argument('--cam-options', nargs='+', action=DictAction, default={},
                   help='override keys of every CAM config (as --cfg-options), e.g. to measure a candidate recipe')
    p.add_argument('--seg-options', nargs='+', action=DictAction, default={},
                   help='override keys of the segmenter config (as --cfg-options)')
    a = p.parse_args(argv)
    methods = [] if 'none' in a.methods else a.methods
    if not methods and not a.seg_config:
        p.error('--methods none runs nothing without --seg-config')
    run_robustness(a.work_dir, a.variants, methods, a.seg_config, repo=Path(__file__).resolve().parents[1],
                   num_workers=a.num_workers, seg_ddp=a.seg_ddp,
                   options={'cam': a.cam_options, 'seg': a.seg_options}, cam_configs=a.cam_configs)


if __name__ == '__main__':
    main()
