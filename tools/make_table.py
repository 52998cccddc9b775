#!/usr/bin/env python
"""Markdown + CSV result table from runs' metrics.json (the run-record schema: docs/ARCHITECTURE.md).

    python tools/make_table.py work_dirs/eps work_dirs/seenet --names EPS SeeNet --out results/table
    python tools/make_table.py work_dirs/abl_* --summary --out results/ablation.md

Writes <out>.md and <out>.csv side by side and prints the Markdown table.
"""
from wsss.engine.cli import make_parser
from wsss.report.tables import make_table


def main(argv=None) -> int:
    ap = make_parser(__doc__)
    ap.add_argument('runs', nargs='+', metavar='RUN_DIR', help='run folders (holding metrics.json) or json files')
    ap.add_argument('--out', help='output path without suffix (or ending in .md/.csv): writes .md and .csv')
    ap.add_argument('--names', nargs='+', help='display name per run (default: "name" in the file, else folder name)')
    ap.add_argument('--summary', action='store_true', help='one row per run/section with scalar columns only')
    ap.add_argument('--sections', nargs='+', help='keep only these sections')
    ap.add_argument('--decimals', type=int, default=None, help='decimals (default 1; 2 with --summary)')
    ap.add_argument('--full-names', action='store_true', help='full VOC class names in the Markdown header')
    args = ap.parse_args(argv)
    md = make_table(args.runs, names=args.names, mode='summary' if args.summary else 'per_class', out=args.out,
                    decimals=args.decimals, sections=args.sections, short_names=not args.full_names)
    print(md, end='')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
