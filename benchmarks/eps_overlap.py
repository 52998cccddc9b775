"""Which classes EPS's saliency loss treats as foreground, for trained EPS-family classifiers.

EPS (eq. (1)) puts a present class k in the foreground set only when its map overlaps the saliency map enough
(O_k > tau); otherwise class k counts as *background*: the loss then no longer pulls p_k off non-salient pixels
(a context the map sits on stays), and on the salient pixels it pushes p_k down with the background channel,
towards the absent classes. This script measures, on the train images as the loss sees them (the config's train
augmentation, seed 0, one pass), the share of (image, present class) pairs with O_k > tau, overall and by the
saliency map's area (terciles), the mean O_k and the share whose map M_k = round(p_k) is empty (p_k <= 0.5
everywhere: O_k = 0 whatever tau, so the class is background for the loss). Measured, not asserted; figures in
benchmarks/RESULTS.md.

    python benchmarks/eps_overlap.py work_dirs/ablation/eps__saliency_good/cam [more run dirs ...]

Each run dir holds the ``config.py`` and ``final.pth`` the CAM stage wrote.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a checkout

from wsss.datasets import build_dataset  # noqa: E402
from wsss.engine.config import load_config  # noqa: E402
from wsss.models.cam.eps_loss import eps_overlap_ratio  # noqa: E402
from wsss.models.loading import load_trained  # noqa: E402
from wsss.registry import CAM_MODELS  # noqa: E402
from wsss.report.tables import markdown_table  # noqa: E402
from wsss.saliency.sources import build_saliency_source  # noqa: E402


@torch.no_grad()
def overlaps(run_dir: Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(O_k of every present class, whether its map M_k = round(p_k) is empty, the saliency area of its image,
    tau) for one trained run."""
    cfg = load_config(run_dir / 'config.py')
    model = load_trained(CAM_MODELS, cfg.model, run_dir / 'final.pth', torch.device('cpu')).eval()
    tau = float(model.head.sal_loss.tau)
    ds = build_dataset(cfg, 'train_dataset', mode='cam', saliency=build_saliency_source(cfg))
    o_all, empty_all, area_all = [], [], []
    for i in range(len(ds) if limit is None else min(limit, len(ds))):
        item = ds[(i, 0)]
        cam = model(item['img'][None])['cam']                                   # (1, C+1, h, w): S_A
        c = cam.shape[1] - 1
        sal = F.interpolate(item['sal'][None], size=cam.shape[2:], mode='nearest')  # as eps_saliency_loss
        probs = F.softmax(cam, 1)[:, :c]
        o = eps_overlap_ratio(probs, sal)[0]
        present = item['cls_label'] > 0.5
        o_all += o[present].tolist()
        empty_all += (torch.round(probs[0]).flatten(1).sum(1) == 0)[present].tolist()
        area_all += [float((sal > 0.5).float().mean())] * int(present.sum())
    return np.array(o_all), np.array(empty_all), np.array(area_all), tau


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('run_dirs', nargs='+', type=Path, help='CAM run folders (config.py + final.pth)')
    ap.add_argument('--limit', type=int, default=None, help='first N train images only')
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for d in args.run_dirs:
        o, empty, area, tau = overlaps(d, args.limit)
        edges = np.quantile(area, [1 / 3, 2 / 3])
        bins = np.digitize(area, edges)
        by_area = ' / '.join(f'{(o[bins == b] > tau).mean():.0%}' for b in range(3))
        rows.append([str(d), len(o), f'{(o > tau).mean():.1%}', by_area, f'{o.mean():.2f}', f'{empty.mean():.1%}',
                     ' / '.join(f'{100 * (area[bins == b]).mean():.0f}%' for b in range(3))])
    print(markdown_table(['run', 'present classes', 'O_k > tau (in the fg set)', 'by saliency area (small / mid / '
                          'large)', 'mean O_k', 'M_k empty (O_k = 0)', 'saliency area of the terciles'], rows))


if __name__ == '__main__':
    main()
