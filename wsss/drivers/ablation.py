"""Method x saliency-source ablation on a VOC-format set (default: the synthetic one) — stages called in order.

For every (method, saliency source) pair: train the CAM classifier, make pseudo-labels (seed, before and
after CRF), and collect one row: seed mIoU, pseudo-label mIoU without / with CRF, foreground precision and
recall of the final labels, and for the seed the share of context pixels labelled foreground and body and part
recall (synthetic set only: the CAM configs plug in the region statistics).
Methods that use no saliency (plain CAM) run once; a classifier that trains without saliency (SeeNet, whose
proxy pseudo-label rule reads it) is trained once and labelled with every source. Every run is resumable and
lives in ``<work_dir>/<method>__<source>/`` (shared classifiers in ``<work_dir>/<method>__cam/``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import pandas as pd

from wsss.drivers.workdirs import check_runs_match_data, repo_config
from wsss.engine.logging import get_logger
from wsss.engine.records import read_record
from wsss.registry import CAM_MODELS
from wsss.report.tables import markdown_table
from wsss.stages.cam import train as train_cam
from wsss.stages.pseudo import make as make_pseudo
from wsss.utils.io import atomic_write_bytes

METHODS = ('cam', 'seenet', 'eps', 'eps_seenet')
SOURCES = ('saliency/good', 'saliency/poor')
COLUMNS = {'seed_mIoU': 'seed mIoU', 'nocrf_mIoU': 'pseudo mIoU (no CRF)', 'crf_mIoU': 'pseudo mIoU (CRF)',
           'context_fg_rate': 'seed: context → fg', 'background_fg_rate': 'seed: other bg → fg',
           'body_recall': 'seed: body recall', 'part_recall': 'seed: part recall',
           'fg_precision': 'labels: fg precision', 'fg_recall': 'labels: fg recall'}
SEED_RATES = ('context_fg_rate', 'background_fg_rate', 'body_recall', 'part_recall')


def run_tag(method: str, source: str | None) -> str:
    """Folder name of one (method, saliency source) run, e.g. ``eps__saliency_good``, ``cam__none``."""
    return f'{method}__{source.replace("/", "_") if source else "none"}'


def run_row(method: str, source: str | None, pseudo_dir: Path) -> dict:
    """One table row: the three mIoUs; the region rates of the *seed* (each classifier's CAMs under the common
    EPS rule, so the classifiers are compared, not their label rules); foreground precision / recall of the
    final labels (after CRF when there is one)."""
    sec = read_record(pseudo_dir).sections
    seed = sec['seed'].get('extra', {})
    final = sec.get('pseudo_crf', sec['pseudo_nocrf']).get('extra', {})
    row = {'method': method, 'saliency': source or '—', 'seed_mIoU': sec['seed']['mIoU'],
           'nocrf_mIoU': sec['pseudo_nocrf']['mIoU'], 'crf_mIoU': sec.get('pseudo_crf', {}).get('mIoU')}
    row.update({k: seed.get(k) for k in SEED_RATES})
    row.update({k: final.get(k) for k in ('fg_precision', 'fg_recall')})
    return row


def _cell(column: str, v) -> str:
    if v is None or pd.isna(v):
        return '–'
    return f'{v:.1f}' if column.endswith('mIoU') else f'{100 * v:.1f}%'


def ablation_table(rows: list[dict]) -> tuple[str, pd.DataFrame]:
    df = pd.DataFrame(rows)
    cols = ['method', 'saliency'] + [c for c in COLUMNS if c in df]
    df = df[cols]
    cells = [[str(r['method']), str(r['saliency'])] + [_cell(c, r[c]) for c in cols[2:]] for _, r in df.iterrows()]
    return markdown_table(['method', 'saliency'] + [COLUMNS[c] for c in cols[2:]], cells), df


def run_ablation(work_dir: str | Path = 'work_dirs/ablation', data_root: str = 'data/synthetic_voc',
                 methods: Sequence[str] = METHODS, sources: Sequence[str] = SOURCES,
                 config_pattern: str = 'configs/cam/{method}_lite0_synthetic.py', repo: str | Path = '.',
                 num_workers: int = 2, options: Optional[dict] = None) -> str:
    """Run every (method, source) pair (module docstring); return the Markdown table (also in
    ``<work_dir>/ablation.{md,csv}``). ``options``: extra CAM config options (as ``--cfg-options``)."""
    work_dir, repo, options = Path(work_dir), Path(repo), options or {}
    work_dir.mkdir(parents=True, exist_ok=True)
    log = get_logger(work_dir, 'ablation')
    check_runs_match_data(work_dir, data_root)
    rows = []
    for method in methods:
        path = config_pattern.format(method=method)
        base = repo_config(repo, path, data_root, **options)
        trains_with_saliency = CAM_MODELS.build(base.model).needs_saliency  # EPS's saliency loss
        labels_with_saliency = bool(make_pseudo.pseudo_settings(base)['use_saliency'])  # e.g. SeeNet's proxy rule
        for source in (sources if trains_with_saliency or labels_with_saliency else [None]):
            tag = run_tag(method, source)
            cfg = repo_config(repo, path, data_root, **options, **({'saliency_dir': source} if source else {}))
            # a classifier that trains without saliency is trained once and shared by its sources
            cam_dir = work_dir / (tag if trains_with_saliency else f'{method}__cam') / 'cam'
            log.info(f'[{tag}] train CAM ({cam_dir})')
            train_cam.run(cfg, cam_dir, resume=True)
            log.info(f'[{tag}] pseudo-labels')
            make_pseudo.run(cfg, cam_dir / 'final.pth', work_dir / tag / 'pseudo', num_workers=num_workers)
            rows.append(run_row(method, source, work_dir / tag / 'pseudo'))
    md, df = ablation_table(rows)
    atomic_write_bytes(work_dir / 'ablation.md', (md + '\n').encode())
    atomic_write_bytes(work_dir / 'ablation.csv', df.to_csv(index=False).encode())
    print(md)
    return md
