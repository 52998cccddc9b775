#!/usr/bin/env python
"""Evaluate saliency maps on a DUTS-layout split: MAE, max F (beta^2 = 0.3), S-measure, mean E-measure
(PySODMetrics), written to metrics.json.

    python tools/eval_saliency.py --data-root data/DUTS-TE --pred-dir data/DUTS-TE/saliency/inspyrenet_r50 \
        [--split test] [--out work_dirs/eval/metrics.json]

Predictions: ``<pred-dir>/<name>.png`` (make them with tools/make_saliency.py --img-dir Image); GT:
``<data-root>/GT/<name>.png``. ``--pred-name NAME`` is short for ``--pred-dir <data-root>/saliency/NAME``.
Default output: ``<pred-dir>/metrics.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> dict:
    from wsss.saliency.metrics import evaluate_folder
    from wsss.utils.io import atomic_write_json, read_lines
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data-root', required=True, help='DUTS-layout folder (Image/, GT/)')
    p.add_argument('--pred-dir', default=None, help='folder of predicted <name>.png maps')
    p.add_argument('--pred-name', default=None, help='short for --pred-dir <data-root>/saliency/NAME')
    p.add_argument('--split', default=None, help='list name (<data-root>/<split>.txt) or path; default all GT')
    p.add_argument('--gt-dir', default='GT', help='ground-truth folder under the data root')
    p.add_argument('--out', default=None, help='metrics.json path')
    p.add_argument('--centre-blob', action='store_true',
                   help='evaluate the trivial centre-blob baseline (maps written to <data-root>/saliency/centre_blob)')
    a = p.parse_args(argv)
    root = Path(a.data_root)
    if not (a.pred_dir or a.pred_name or a.centre_blob):
        raise SystemExit('give --pred-dir, --pred-name or --centre-blob')
    names = None
    if a.split:
        lp = Path(a.split)
        lp = lp if lp.is_file() else root / (a.split if a.split.endswith('.txt') else f'{a.split}.txt')
        names = read_lines(lp)
    if a.centre_blob:
        from wsss.saliency.baselines import write_centre_blob_maps
        gt_names = names if names is not None else sorted(q.stem for q in (root / a.gt_dir).glob('*.png'))
        pred_dir = write_centre_blob_maps(root / a.gt_dir, gt_names, root / 'saliency' / 'centre_blob')
    else:
        pred_dir = Path(a.pred_dir) if a.pred_dir else root / 'saliency' / a.pred_name
    res = evaluate_folder(pred_dir, root / a.gt_dir, names)
    res.update(pred_dir=str(pred_dir), gt_dir=str(root / a.gt_dir), split=a.split)
    out = Path(a.out) if a.out else pred_dir / 'metrics.json'
    atomic_write_json(out, res)
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}, indent=1))
    return res


if __name__ == '__main__':
    main()
