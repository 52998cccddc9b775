"""Saliency-source ablation: one CAM method, several saliency sources, one table — stages called in order.

A *source* is one of

- ``folder:<dir>``: precomputed maps (``<dir>`` relative to the data root, or absolute), e.g. the synthetic
  set's ``saliency/good`` and ``saliency/poor``;
- ``model:<saliency config>[@<checkpoint>]``: a saliency model of ours (InSPyReNet, BiRefNet). Without a
  checkpoint it is trained first with the saliency stage (on ``sod_root``, the DUTS-layout split; default
  ``<data_root>/sod``); then its maps of every image of the data set are made with the saliency stage's
  inference into ``<work_dir>/<name>/maps``;
- ``none``: no saliency. The method then has nothing to train or label with, so the row is what it degrades
  to: ``none_config`` (default plain CAM, whose rule uses a constant background score).

For each source: SOD quality of the maps on the CAM training split against the ground-truth foreground
(``SegmentationClass`` != 0; void 255 counts as foreground: it is the object boundary band in VOC), MAE /
max F / S-measure / mean E; then the CAM classifier trained with those maps, its pseudo-labels (seed, before
and after CRF, mIoU against the ground truth of the split) and, when ``seg_config`` is given, the segmenter
trained on the final pseudo-labels and its val mIoU. Every step is resumable and skipped when finished;
``<work_dir>/saliency_ablation.{md,csv}`` hold the table.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from wsss.datasets.synthetic import ensure_synthetic
from wsss.drivers.workdirs import check_runs_match_data, repo_config
from wsss.engine.logging import get_logger
from wsss.engine.records import read_record, write_record
from wsss.metrics.sod import evaluate_folder
from wsss.report.tables import markdown_table
from wsss.saliency.sources import FolderSaliency
from wsss.stages.cam import train as train_cam
from wsss.stages.pseudo import make as make_pseudo
from wsss.stages.saliency import infer as infer_saliency
from wsss.stages.saliency import train as train_saliency
from wsss.stages.seg import evaluate as eval_seg
from wsss.stages.seg import train as train_seg
from wsss.utils.io import atomic_write_bytes, read_label_png, read_lines, save_gray_png

#: the synthetic set's sources: our two saliency models (trained here), the shipped folders, none
DEFAULT_SOURCES = ('inspyrenet=model:configs/saliency/inspyrenet_res2net50_synthetic.py',
                   'birefnet=model:configs/saliency/birefnet_swin_tiny_synthetic.py',
                   'good=folder:saliency/good', 'poor=folder:saliency/poor', 'none=none')
DEFAULT_DATA_ROOT = 'data/synthetic_voc'
DEFAULT_CAM_CONFIG = 'configs/cam/eps_seenet_lite0_synthetic.py'
DEFAULT_NONE_CONFIG = 'configs/cam/cam_lite0_synthetic.py'
SOD_COLUMNS = {'mae': 'MAE ↓', 'maxFm': 'max F ↑', 'Sm': 'S-measure ↑', 'meanEm': 'mean E ↑'}
LABEL_COLUMNS = {'seed_mIoU': 'seed mIoU', 'nocrf_mIoU': 'pseudo mIoU (no CRF)', 'crf_mIoU': 'pseudo mIoU (CRF)',
                 'seg_mIoU': 'segmenter mIoU (val)'}


@dataclass(frozen=True)
class Source:
    """One saliency source: ``kind`` 'folder' | 'model' | 'none'."""
    name: str
    kind: str
    path: Optional[str] = None        # folder, or saliency config
    checkpoint: Optional[str] = None  # model only

    @classmethod
    def parse(cls, spec: str) -> 'Source':
        """``NAME=folder:DIR``, ``NAME=model:CONFIG[@CHECKPOINT]`` or ``NAME=none`` (``NAME=`` optional:
        defaults to the folder's / config's stem)."""
        name, _, rest = spec.partition('=') if '=' in spec.split(':', 1)[0] else ('', '', spec)
        kind, _, arg = rest.partition(':')
        if kind == 'none' and not arg:
            return cls(name or 'none', 'none')
        if kind == 'folder' and arg:
            return cls(name or Path(arg).name, 'folder', arg)
        if kind == 'model' and arg:
            cfg, _, ckpt = arg.partition('@')
            return cls(name or Path(cfg).stem, 'model', cfg, ckpt or None)
        raise ValueError(f'saliency source {spec!r}: expected NAME=folder:DIR, NAME=model:CONFIG[@CHECKPOINT] '
                         'or NAME=none')


def foreground_masks(data_root: Path, ids: Sequence[str], out_dir: Path) -> Path:
    """``<out_dir>/<id>.png`` = 255 where ``SegmentationClass`` is not background (void included), else 0."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for i in ids:
        path = out_dir / f'{i}.png'
        if not path.is_file():
            label = read_label_png(data_root / 'SegmentationClass' / f'{i}.png')
            save_gray_png(path, np.where(label != 0, 255, 0).astype(np.uint8))
    return out_dir


def make_maps(source: Source, data_root: Path, sod_root: Path, src_dir: Path, repo: Path, log,
              saliency_options: Optional[dict] = None) -> Path:
    """The source's maps folder (trained and predicted first for a model source)."""
    if source.kind == 'folder':
        return FolderSaliency.folder(str(data_root), source.path)
    cfg = repo_config(repo, source.path, sod_root, **(saliency_options or {}))
    ckpt = source.checkpoint
    if ckpt is None:
        train_dir = src_dir / 'saliency_train'
        if not (train_dir / 'final.pth').is_file():
            log.info(f'[{source.name}] training the saliency model ({source.path} on {sod_root})')
            train_saliency.run(cfg, train_dir, resume=True)
        ckpt = str(train_dir / 'final.pth')
    maps = src_dir / 'maps'
    log.info(f'[{source.name}] saliency maps of {data_root} -> {maps}')
    infer_saliency.run(cfg, ckpt, data_root, maps, progress=False)  # resumable: finished maps are skipped
    return maps


def run_source(source: Source, data_root: Path, sod_root: Path, work_dir: Path, cam_config: str,
               none_config: str, seg_config: Optional[str], fg_dir: Path, repo: Path, num_workers: int,
               log, options: dict) -> dict:
    src_dir = work_dir / source.name
    row = {'source': source.name, 'kind': source.kind}
    if source.kind == 'none':
        cfg = repo_config(repo, none_config, data_root, **options.get('cam', {}))
    else:
        maps = make_maps(source, data_root, sod_root, src_dir, repo, log, options.get('saliency')).resolve()
        cfg = repo_config(repo, cam_config, data_root, saliency_dir=str(maps), **options.get('cam', {}))
        ids = read_lines(fg_dir.parent / 'ids.txt')
        sod_record = src_dir / 'sod'
        if not (sod_record / 'metrics.json').is_file():
            write_record(sod_record, 'eval_saliency', {'sod': evaluate_folder(maps, fg_dir, ids)}, name=source.name,
                         inputs={'pred_dir': str(maps), 'gt_dir': str(fg_dir)})
        sod = read_record(sod_record).section('sod')
        row.update({k: sod.get(k) for k in SOD_COLUMNS})
    log.info(f'[{source.name}] CAM classifier and pseudo-labels')
    train_cam.run(cfg, src_dir / 'cam', resume=True)
    make_pseudo.run(cfg, src_dir / 'cam' / 'final.pth', src_dir / 'pseudo', num_workers=num_workers)
    sec = read_record(src_dir / 'pseudo').sections
    row.update(seed_mIoU=sec['seed']['mIoU'], nocrf_mIoU=sec['pseudo_nocrf']['mIoU'],
               crf_mIoU=sec.get('pseudo_crf', {}).get('mIoU'))
    if seg_config:
        seg_dir = src_dir / 'seg'
        labels = (src_dir / 'pseudo' / ('crf' if 'pseudo_crf' in sec else 'nocrf')).resolve()
        if not eval_seg.has_section(seg_dir, 'val_ss'):
            log.info(f'[{source.name}] segmenter on {labels}')
            train_seg.run(repo_config(repo, seg_config, data_root, label_dir=str(labels), **options.get('seg', {})),
                          seg_dir, resume=True)
        row['seg_mIoU'] = read_record(seg_dir).section('val_ss')['mIoU']
    return row


def _cell(column: str, v) -> str:
    if v is None or pd.isna(v):
        return '–'
    return f'{v:.3f}' if column in SOD_COLUMNS else f'{v:.1f}'


def saliency_table(rows: list[dict]) -> tuple[str, pd.DataFrame]:
    df = pd.DataFrame(rows)
    cols = [c for c in (*SOD_COLUMNS, *LABEL_COLUMNS) if c in df]
    cells = [[r['source']] + [_cell(c, r.get(c)) for c in cols] for _, r in df.iterrows()]
    header = ['saliency'] + [{**SOD_COLUMNS, **LABEL_COLUMNS}[c] for c in cols]
    return markdown_table(header, cells), df[['source', 'kind'] + cols]


def run_saliency_ablation(work_dir: str | Path = 'work_dirs/saliency_ablation',
                          data_root: str | Path = DEFAULT_DATA_ROOT, sources: Sequence[str] = DEFAULT_SOURCES,
                          cam_config: str = DEFAULT_CAM_CONFIG, none_config: str = DEFAULT_NONE_CONFIG,
                          seg_config: Optional[str] = None, sod_root: Optional[str | Path] = None,
                          repo: str | Path = '.', num_workers: int = 2, options: Optional[dict] = None) -> str:
    """Run every source (see the module docstring) and return the Markdown table. ``options``: extra config
    options per kind of config, ``{'cam': {...}, 'saliency': {...}, 'seg': {...}}`` (as ``--cfg-options``)."""
    options = options or {}
    work_dir, data_root, repo = Path(work_dir), Path(data_root), Path(repo)
    parsed = [Source.parse(s) for s in sources]
    names = [s.name for s in parsed]
    if len(set(names)) != len(names):
        raise ValueError(f'saliency source names must be unique, got {names}')
    if data_root == Path(DEFAULT_DATA_ROOT):
        ensure_synthetic(data_root)  # the embedded set is generated on first use; any other root must exist
    work_dir.mkdir(parents=True, exist_ok=True)
    log = get_logger(work_dir, 'saliency_ablation')
    check_runs_match_data(work_dir, data_root)
    sod_root = Path(sod_root) if sod_root is not None else data_root / 'sod'
    split = repo_config(repo, cam_config, data_root, **options.get('cam', {})).train_dataset.get('split', 'train')
    ids = read_lines(data_root / 'ImageSets' / 'Segmentation' / f'{split}.txt')
    fg_dir = foreground_masks(data_root, ids, work_dir / 'gt_foreground' / 'masks')
    atomic_write_bytes(work_dir / 'gt_foreground' / 'ids.txt', ('\n'.join(ids) + '\n').encode())
    rows = [run_source(s, data_root, sod_root, work_dir, cam_config, none_config, seg_config, fg_dir, repo,
                       num_workers, log, options) for s in parsed]
    md, df = saliency_table(rows)
    note = (f'CAM method: `{cam_config}` (row `none`: `{none_config}`); SOD metrics of each source on the '
            f'`{split}` split against the ground-truth foreground; mIoU (%) of the pseudo-labels on `{split}`'
            + ('; segmenter: `' + seg_config + '`, val.' if seg_config else '.'))
    text = md + '\n\n' + note
    atomic_write_bytes(work_dir / 'saliency_ablation.md', (text + '\n').encode())
    atomic_write_bytes(work_dir / 'saliency_ablation.csv', df.to_csv(index=False).encode())
    print(text)
    return text
