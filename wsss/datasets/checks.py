"""Input checks of a VOC-format data set, run before a stage starts (and by ``tools/check_data.py``).

A stage describes what it will read as :class:`SplitInputs` (one per split: its images, the masks it reads, its
image-level labels, saliency maps, training labels); :func:`check_inputs` then looks at every one of those files
and returns a :class:`DataReport` with ALL the problems, each naming its file, grouped by kind (counts and the
first :data:`MAX_LISTED` of each kind). :func:`run_checks` is the stages' entry point: it raises one
:class:`DataCheckError` with that report before anything is trained or written, unless the config says
``check_data=False`` (tools: ``--no-check``).

What is checked, per id of the split:

* the image ``<img_dir>/<id>.jpg`` exists and decodes (PIL open + load: truncated or corrupt JPEGs are caught);
* masks ``<ann_dir>/<id>.png`` when the stage reads them — for the image-level labels (no ``labels_file``), or
  as evaluation ground truth (read when every id of the split has one, as the stages do): they follow the
  label-PNG contract (:func:`wsss.utils.io.read_label_png`) and have the image's size;
* with a ``labels_file``: it loads and holds every id;
* saliency maps ``<saliency_dir>/<id>.png`` (EPS-family training, pseudo-label rules with ``use_saliency``):
  exist, decode, have the image's size;
* training labels ``<label_dir>/<id>.png`` (segmenter): exist, follow the label-PNG contract, have the image's size.

Cost: one decode of each file, in threads (PIL releases the GIL). Measured in ``docs/reproduce_voc.md``
("Checking your data").
"""
from __future__ import annotations

import inspect
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Sequence

from PIL import Image

from wsss.datasets.voc import VOCDataset, load_labels_file, resolve_dir
from wsss.engine.config_keys import Built
from wsss.registry import CONFIG_SECTIONS, DATASETS
from wsss.utils.io import read_label_png, read_lines

__all__ = ['SplitInputs', 'DataReport', 'DataCheckError', 'voc_split_inputs', 'check_inputs', 'run_checks',
           'MAX_LISTED']

#: files listed per kind of problem (the count is always complete)
MAX_LISTED = 10
#: kinds of problem, in report order
KINDS = ('missing split lists', 'missing folders', 'unreadable labels files',
         'missing images', 'unreadable images',
         'ids without image-level labels', 'invalid masks', 'masks of the wrong size',
         'missing saliency maps', 'unreadable saliency maps', 'saliency maps of the wrong size',
         'missing training labels', 'invalid training labels', 'training labels of the wrong size')
SKIP_HINT = 'skip these checks with --cfg-options check_data=False (tools: --no-check)'


@dataclass
class SplitInputs:
    """The files one stage reads of one split of a VOC-format data set.

    ``image_labels``: the image-level labels of every id are read (from ``labels_file``, else from the masks);
    ``eval_gt``: the masks are read as ground truth when every id has one; ``saliency_dir`` / ``label_dir``:
    saliency maps / training labels of every id; ``limit``: only the first ids of the list."""
    what: str
    data_root: Path
    list_path: Path
    img_dir: Path
    ann_dir: Path
    image_labels: bool = True
    labels_file: Optional[Path] = None
    eval_gt: bool = False
    saliency_dir: Optional[Path] = None
    label_dir: Optional[Path] = None
    limit: Optional[int] = None

    def describe(self, num_ids: Optional[int] = None, gt_read: Optional[bool] = None) -> str:
        parts = [f'images {self.img_dir}']
        if self.image_labels:
            parts.append(f'image-level labels from {self.labels_file}' if self.labels_file is not None
                         else f'image-level labels from the masks {self.ann_dir}')
        if self.eval_gt and not (self.image_labels and self.labels_file is None):
            parts.append(f'ground truth {self.ann_dir}' + ('' if gt_read or gt_read is None
                                                           else ' (not complete: not read, as the stage)'))
        if self.saliency_dir is not None:
            parts.append(f'saliency maps {self.saliency_dir}')
        if self.label_dir is not None:
            parts.append(f'training labels {self.label_dir}')
        n = '' if num_ids is None else f', {num_ids} ids'
        return f'{self.what} ({self.list_path}{n}): ' + ', '.join(parts)


@dataclass
class DataReport:
    """Every problem found, by kind (each item names its file), what was checked and how long it took."""
    title: str
    problems: dict[str, list[str]] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    _seen: set = field(default_factory=set, repr=False)

    def add(self, kind: str, item: str) -> None:
        if (kind, item) not in self._seen:  # one file read by two splits / stages is one problem
            self._seen.add((kind, item))
            self.problems.setdefault(kind, []).append(item)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def num_problems(self) -> int:
        return sum(len(v) for v in self.problems.values())

    def summary(self) -> str:
        checked = ', '.join(f'{n} {k}' for k, n in self.counts.items() if n)
        state = 'OK' if self.ok else f'{self.num_problems} problems'
        return f'data check {self.title}: {state}; checked {checked or "nothing"} in {self.seconds:.1f} s'

    def format(self, max_listed: int = MAX_LISTED) -> str:
        lines = [self.summary(), 'inputs:'] + [f'  {s}' for s in self.inputs] + [f'  note: {n}' for n in self.notes]
        if self.problems:
            lines.append('problems:')
            for kind in sorted(self.problems, key=lambda k: KINDS.index(k) if k in KINDS else len(KINDS)):
                items = self.problems[kind]
                lines.append(f'  {kind}: {len(items)}')
                lines += [f'    {it}' for it in items[:max_listed]]
                if len(items) > max_listed:
                    lines.append(f'    ... and {len(items) - max_listed} more')
            lines.append(SKIP_HINT)
        return '\n'.join(lines)


class DataCheckError(ValueError):
    """The data a stage is about to read has problems (the message lists all of them)."""

    def __init__(self, report: DataReport):
        super().__init__(report.format())
        self.report = report


def _voc_defaults() -> dict:
    return {k: p.default for k, p in inspect.signature(VOCDataset).parameters.items()
            if p.default is not inspect.Parameter.empty}


def voc_split_inputs(cfg, which: str, what: str, split: Optional[str] = None, **fields) -> Optional[SplitInputs]:
    """The files of data set section ``which`` (``train_dataset`` / ``infer_dataset``) as ``build_dataset``
    builds it (top-level ``data_root``, the section, ``split`` when given), with the stage's ``fields``
    (:class:`SplitInputs`); None when the section is not a ``VOCDataset``."""
    section = {'data_root': cfg.get('data_root'), **dict(cfg.get(which, None) or {})}
    if split is not None:
        section['split'] = split
    t = section.get('type', 'VOCDataset')
    cls = DATASETS.get(t) if isinstance(t, str) else t
    if cls is None or not issubclass(cls, VOCDataset):
        return None
    args = {**_voc_defaults(), **section}
    root = Path(str(args['data_root']))
    split = str(args['split'])
    list_path = Path(split) if split.endswith('.txt') else root / 'ImageSets' / 'Segmentation' / f'{split}.txt'
    labels_file = Path(args['labels_file']) if args.get('labels_file') else None
    return SplitInputs(what=what, data_root=root, list_path=list_path, img_dir=resolve_dir(root, args['img_dir']),
                       ann_dir=resolve_dir(root, args['ann_dir']), labels_file=labels_file, **fields)


# -- one file of each kind --------------------------------------------------------------------------------------
def _decode(path: Path) -> tuple[Optional[tuple[int, int]], Optional[str]]:
    """``((W, H), None)`` or ``(None, error)`` of a full PIL decode."""
    try:
        with Image.open(path) as im:
            im.load()
            return im.size, None
    except Exception as e:  # noqa: BLE001  (any decoder error is the file's problem)
        return None, f'{type(e).__name__}: {e}'


def _label_png(path: Path) -> tuple[Optional[tuple[int, int]], Optional[str]]:
    try:
        arr = read_label_png(path)
        return (arr.shape[1], arr.shape[0]), None
    except ValueError as e:  # names the file and what is wrong
        return None, str(e)


def _wxh(size: tuple[int, int]) -> str:
    return f'{size[0]}x{size[1]}'


def _check_id(image_id: str, inp: SplitInputs, read_masks: bool) -> list[tuple[str, Path, str, str]]:
    """``(file role, path, problem kind, item)`` per file read for one id; kind and item are '' when it is fine."""
    out = []
    img = inp.img_dir / f'{image_id}.jpg'
    size = None
    if not img.is_file():
        out.append(('images', img, 'missing images', str(img)))
    else:
        size, err = _decode(img)
        out.append(('images', img, 'unreadable images', f'{img}: {err}') if err else ('images', img, '', ''))

    def sized(role: str, path: Path, kind_bad: str, kind_size: str, got, err) -> None:
        if err:
            out.append((role, path, kind_bad, err if str(path) in err else f'{path}: {err}'))
        elif size is not None and got != size:
            out.append((role, path, kind_size, f'{path}: {_wxh(got)} (WxH), image {_wxh(size)}'))
        else:
            out.append((role, path, '', ''))

    if read_masks:
        m = inp.ann_dir / f'{image_id}.png'
        if m.is_file():
            sized('masks', m, 'invalid masks', 'masks of the wrong size', *_label_png(m))
        elif inp.image_labels and inp.labels_file is None:
            out.append(('masks', m, 'ids without image-level labels',
                        f'{image_id}: no mask {m} (the labels come from the masks; give labels_file=... for '
                        'images without ground truth)'))
    if inp.saliency_dir is not None:
        s = inp.saliency_dir / f'{image_id}.png'
        if not s.is_file():
            out.append(('saliency maps', s, 'missing saliency maps', str(s)))
        else:
            sized('saliency maps', s, 'unreadable saliency maps', 'saliency maps of the wrong size', *_decode(s))
    if inp.label_dir is not None:
        lab = inp.label_dir / f'{image_id}.png'
        if not lab.is_file():
            out.append(('training labels', lab, 'missing training labels', str(lab)))
        else:
            sized('training labels', lab, 'invalid training labels', 'training labels of the wrong size',
                  *_label_png(lab))
    return out


def _folder_ok(report: DataReport, folder: Optional[Path], what: str) -> Optional[Path]:
    if folder is not None and not folder.is_dir():
        report.add('missing folders', f'{folder} ({what})')
        return None
    return folder


def check_inputs(inputs: Sequence[Optional[SplitInputs]], title: str = '',
                 workers: Optional[int] = None) -> DataReport:
    """Check every file of ``inputs`` (None entries: data sets that are not VOC-format, skipped); a file read by
    several inputs is checked once. Never raises for a data problem: they are all in the report."""
    t0 = time.perf_counter()
    report = DataReport(title)
    workers = workers or min(8, os.cpu_count() or 1)
    done: set[tuple] = set()
    files: dict[str, set] = {}
    for inp in inputs:
        if inp is None:
            continue
        if not inp.list_path.is_file():
            report.add('missing split lists', str(inp.list_path))
            report.inputs.append(inp.describe())
            continue
        ids = read_lines(inp.list_path)[:inp.limit] if inp.limit else read_lines(inp.list_path)
        if not ids:
            report.add('missing split lists', f'{inp.list_path} (empty)')
            continue
        _folder_ok(report, inp.img_dir, 'images')
        checked = replace(inp, saliency_dir=_folder_ok(report, inp.saliency_dir, 'saliency maps'),
                          label_dir=_folder_ok(report, inp.label_dir, 'training labels'))
        if inp.image_labels and inp.labels_file is not None:
            try:
                labels = load_labels_file(inp.labels_file)
            except Exception as e:  # noqa: BLE001
                report.add('unreadable labels files', f'{inp.labels_file}: {type(e).__name__}: {e}')
            else:
                for i in ids:
                    if i not in labels:
                        report.add('ids without image-level labels', f'{i}: not in the labels file {inp.labels_file}')
        labels_from_masks = inp.image_labels and inp.labels_file is None
        gt_complete = inp.eval_gt and all((inp.ann_dir / f'{i}.png').is_file() for i in ids)
        read_masks = labels_from_masks or gt_complete
        if labels_from_masks and not inp.ann_dir.is_dir():
            report.add('missing folders', f'{inp.ann_dir} (masks: the image-level labels come from them; give '
                       'labels_file=... for images without ground truth)')
            read_masks = False
        report.inputs.append(inp.describe(len(ids), gt_complete))
        if not checked.img_dir.is_dir():
            continue
        key = (checked.img_dir, read_masks, checked.ann_dir, checked.saliency_dir, checked.label_dir)
        todo = [i for i in ids if (i, key) not in done]  # the same files for the same id: checked once
        done.update((i, key) for i in todo)
        with ThreadPoolExecutor(workers) as pool:
            for findings in pool.map(lambda i: _check_id(i, checked, read_masks), todo):
                for role, path, kind, item in findings:
                    files.setdefault(role, set()).add(path)
                    if kind:
                        report.add(kind, item)
    report.counts = {role: len(paths) for role, paths in files.items()}
    report.seconds = time.perf_counter() - t0
    return report


def run_checks(cfg, inputs: Sequence[Optional[SplitInputs]], stage: str) -> Optional[DataReport]:
    """A stage's input check: :func:`check_inputs` and one :class:`DataCheckError` listing every problem; nothing
    (None) when the config sets ``check_data=False``."""
    if not cfg.get('check_data', True):
        return None
    src = getattr(cfg, 'filename', None)
    report = check_inputs(inputs, title=f'{stage}' + (f' ({src})' if src else ''))
    if not report.ok:
        raise DataCheckError(report)
    return report


@CONFIG_SECTIONS.register_module()
def dataset_sections(cfg) -> dict:
    """``data_root`` (the data set folder), ``train_dataset`` / ``infer_dataset`` (a ``DATASETS`` config: the
    class's constructor arguments) and ``check_data`` (False: the stages skip the checks of this module)."""
    return {'data_root': None, 'train_dataset': Built(DATASETS), 'infer_dataset': Built(DATASETS),
            'check_data': None}
