#!/usr/bin/env python
"""Evaluate saliency maps on a DUTS-layout split: MAE, max F (beta^2 = 0.3), S-measure, mean E-measure
(PySODMetrics), written to metrics.json (section 'sod').

    python tools/eval_saliency.py --data-root data/DUTS-TE --pred-dir data/DUTS-TE/saliency/inspyrenet_r50 \\
        [--split test] [--out work_dirs/eval/metrics.json]

Predictions: <pred-dir>/<name>.png (make them with tools/make_saliency.py --img-dir Image); GT:
<data-root>/GT/<name>.png. --pred-name NAME is short for --pred-dir <data-root>/saliency/NAME.
Default output: <pred-dir>/metrics.json.
"""
import json
from pathlib import Path

from wsss.engine.cli import make_parser
from wsss.stages.saliency import evaluate


def main(argv=None) -> dict:
    p = make_parser(__doc__)
    p.add_argument('--data-root', required=True, help='DUTS-layout folder (Image/, GT/)')
    p.add_argument('--pred-dir', default=None, help='folder of predicted <name>.png maps')
    p.add_argument('--pred-name', default=None, help='short for --pred-dir <data-root>/saliency/NAME')
    p.add_argument('--split', default=None, help='list name (<data-root>/<split>.txt) or path; default all GT')
    p.add_argument('--gt-dir', default='GT', help='ground-truth folder under the data root')
    p.add_argument('--out', default=None, help='metrics.json path (default <pred-dir>/metrics.json)')
    p.add_argument('--centre-blob', action='store_true',
                   help='evaluate the trivial centre-blob baseline (maps written to <data-root>/saliency/centre_blob)')
    a = p.parse_args(argv)
    if not (a.pred_dir or a.pred_name or a.centre_blob):
        p.error('give --pred-dir, --pred-name or --centre-blob')
    pred_dir = a.pred_dir or (Path(a.data_root) / 'saliency' / a.pred_name if a.pred_name else None)
    res = evaluate.run(a.data_root, pred_dir, split=a.split, gt_dir=a.gt_dir, out=a.out, centre_blob=a.centre_blob)
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}, indent=1))
    return res


if __name__ == '__main__':
    main()
