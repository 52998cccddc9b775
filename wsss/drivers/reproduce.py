"""One command per paper row: every stage in order, each skipped when finished and resumed when interrupted, then
one table of our numbers beside the paper's.

Stages of a row (``<work_dir>/<row>/``):
 1. ``cam/``: train the CAM classifier (its config names the saliency folder it reads, if any);
 2. ``pseudo_train/``: pseudo-labels of VOC ``train`` (1,464 images), scored against ground truth (seed and labels);
 3. ``pseudo_train_aug/``: pseudo-labels of the CAM config's training split (``train_aug``, 10,582 images): the
    segmenter's training labels (the CRF folder when the config refines with a CRF, else the rule's labels);
 4. ``seg/``: train the segmenter on them, evaluate ``val`` with the papers' protocol (deeplab-pytorch's multi-scale
    max fusion + dense CRF), and write the ``test`` predictions in the VOC server layout when the data root has
    ``ImageSets/Segmentation/test.txt``;
 5. ``reproduce.md``: stage, ours, paper, difference.

Options reach the stages as ``--cfg-options`` do: ``options`` apply to both configs (e.g. ``data_root=...``),
``cam_options`` / ``seg_options`` to one (e.g. each ``model.backbone.pretrained``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from wsss.drivers.workdirs import repo_config
from wsss.engine.logging import get_logger
from wsss.engine.records import read_record, record_path
from wsss.report.tables import markdown_table
from wsss.stages.cam import train as train_cam
from wsss.stages.pseudo import make as make_pseudo
from wsss.stages.seg import evaluate as eval_seg
from wsss.stages.seg import train as train_seg
from wsss.utils.io import atomic_write_bytes

#: the evaluation protocol of the papers' segmenter numbers (kazuto1011/deeplab-pytorch: MSC-max, then CRF)
VAL_PROTOCOL = dict(msc_max=True, crf=True)
VAL_SECTION = eval_seg.section_name('val', (1.0,), False, True, msc_max=True)
STAGES = ('CAM seed (train)', 'pseudo-labels (train)', 'segmenter (val, MSC-max + CRF)', 'segmenter (test)')


@dataclass(frozen=True)
class PaperRow:
    """A paper's row: the configs that reproduce it and its published numbers (keys of :data:`STAGES`)."""
    cam: str
    seg: str
    paper: dict = field(default_factory=dict)
    source: str = ''


EPS_NUMBERS = {'pseudo-labels (train)': 69.2, 'segmenter (val, MSC-max + CRF)': 70.9, 'segmenter (test)': 70.8}
ROWS = {
    'voc_eps': PaperRow(
        'configs/cam/eps_resnet38_voc.py', 'configs/seg/deeplabv2_r101_msc_coco_voc.py', EPS_NUMBERS,
        'EPS (Lee et al., CVPR 2021): pseudo-labels from the halbielee/EPS README (released checkpoint, no CRF); '
        'DeepLab-v2 ResNet-101 val / test from the paper'),
    'voc_seenet': PaperRow(
        'configs/cam/seenet_vgg16_voc.py', 'configs/seg/deeplabv2_r101_msc_imagenet_voc.py',
        {'segmenter (val, MSC-max + CRF)': 63.1, 'segmenter (test)': 62.8},
        'SeeNet (Hou et al., NeurIPS 2018): DeepLab ResNet-101 val / test; no pseudo-label number published'),
    'voc_eps_seenet': PaperRow(
        'configs/cam/eps_seenet_resnet38_voc.py', 'configs/seg/deeplabv2_r101_msc_coco_voc.py', EPS_NUMBERS,
        "this project's method; the paper column holds EPS's numbers, the baseline it should beat"),
}


def _miou(folder: Path, section: str) -> Optional[float]:
    if not record_path(folder).is_file():
        return None
    return read_record(folder).sections.get(section, {}).get('mIoU')


def training_labels(pseudo_dir: Path) -> Path:
    """The folder the segmenter learns from: the CRF labels when the pseudo-label config made them."""
    return pseudo_dir / 'crf' if (pseudo_dir / 'crf').is_dir() else pseudo_dir / 'nocrf'


def run_row(name: str, work_dir: str | Path = 'work_dirs/reproduce', repo: str | Path = '.',
            options: Optional[dict] = None, cam_options: Optional[dict] = None,
            seg_options: Optional[dict] = None, num_workers: Optional[int] = None, test: bool = True) -> str:
    """Run (or resume) every stage of ``ROWS[name]``; returns the Markdown table (also ``reproduce.md``)."""
    if name not in ROWS:
        raise KeyError(f'unknown row {name!r}; rows: {sorted(ROWS)}')
    row, out = ROWS[name], Path(work_dir) / name
    log = get_logger(out, 'reproduce')
    cam_cfg = repo_config(repo, row.cam, **{**(options or {}), **(cam_options or {})})
    log.info(f'[{name}] 1/4 CAM classifier ({row.cam})')
    train_cam.run(cam_cfg, out / 'cam', resume=True)
    checkpoint = out / 'cam' / 'final.pth'
    log.info(f'[{name}] 2/4 pseudo-labels of train (scored) and of {cam_cfg.train_dataset.split} (segmenter labels)')
    make_pseudo.run(cam_cfg, checkpoint, out / 'pseudo_train', split='train', num_workers=num_workers)
    make_pseudo.run(cam_cfg, checkpoint, out / 'pseudo_train_aug', split=cam_cfg.train_dataset.split,
                    num_workers=num_workers)
    labels = training_labels(out / 'pseudo_train_aug').resolve()
    seg_cfg = repo_config(repo, row.seg, **{**(options or {}), **(seg_options or {}), 'label_dir': str(labels)})
    seg_dir = out / 'seg'
    log.info(f'[{name}] 3/4 segmenter ({row.seg}) on {labels}')
    if not (seg_dir / 'final.pth').is_file() or not eval_seg.has_section(seg_dir, 'val_ss'):
        train_seg.run(seg_cfg, seg_dir, resume=True)
    log.info(f'[{name}] 4/4 evaluation: val ({VAL_SECTION}), test server PNGs')
    if not eval_seg.has_section(seg_dir, VAL_SECTION):
        eval_seg.run(seg_cfg, seg_dir / 'final.pth', seg_dir, split='val', save_png=False, **VAL_PROTOCOL)
    test_list = Path(seg_cfg.data_root) / 'ImageSets' / 'Segmentation' / 'test.txt'
    test_dir = seg_dir / 'results' / 'VOC2012' / 'Segmentation' / 'comp6_test_cls'
    if test and test_list.is_file():
        eval_seg.run(seg_cfg, seg_dir / 'final.pth', seg_dir, split='test', **VAL_PROTOCOL)
    ours = {STAGES[0]: _miou(out / 'pseudo_train', 'seed'),
            STAGES[1]: _miou(out / 'pseudo_train', 'pseudo_crf' if labels.name == 'crf' else 'pseudo_nocrf'),
            STAGES[2]: _miou(seg_dir, VAL_SECTION),
            STAGES[3]: f'server PNGs: {test_dir}' if test_dir.is_dir() else None}
    md = comparison_table(name, ours, row)
    atomic_write_bytes(out / 'reproduce.md', (md + '\n').encode())
    print(md)
    return md


def comparison_table(name: str, ours: dict, row: PaperRow) -> str:
    """Markdown: one line per stage with our number, the paper's and the difference."""
    def fmt(v):
        return '–' if v is None else v if isinstance(v, str) else f'{v:.1f}'
    lines = []
    for stage in STAGES:
        o, p = ours.get(stage), row.paper.get(stage)
        diff = f'{o - p:+.1f}' if isinstance(o, (int, float)) and p is not None else '–'
        lines.append([stage, fmt(o), fmt(p), diff])
    return f'### {name}\n\n' + markdown_table(['stage', 'ours', 'paper', 'difference'], lines) + \
        f'\n\nPaper: {row.source}.'
