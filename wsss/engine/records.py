"""Run records: the one ``metrics.json`` schema every stage writes, with one writer and one reader.

Schema (``SCHEMA`` = ``'wsss-metrics/1'``)::

    {
      "schema": "wsss-metrics/1",
      "stage": "make_pseudo",            # train_saliency | make_saliency | eval_saliency | train_cam |
                                         # make_pseudo | eval_labels | train_seg | eval_seg
      "name": "pseudo_eps_seenet",       # display name (default: the output folder's name)
      "config": "configs/cam/eps_seenet_lite0_synthetic.py",   # the config the stage ran (or null)
      "inputs": {"checkpoint": "...", "data_root": "...", "split": "train"},   # what it read
      "sections": {                      # one entry per evaluation (or per training summary)
        "seed": {
          "mIoU": 38.02, "aAcc": 90.1, "mAcc": 51.2,          # x100; any numeric scalar is a table column
          "IoU": {"background": 88.1, "aeroplane": 80.2, ...},  # per class, x100, null = absent class
          "Acc": {...}, "num_images": 400, "raw": {...},      # dicts other than IoU are kept, not tabulated
          "extra": {"context_fg_rate": 0.24}                   # optional further numeric columns
        },
        "pseudo_nocrf": {...}
      }
    }

Sections by stage: ``train_*``: ``train`` (the last logged losses, lr, speed) and, for saliency models with an
evaluation split, ``eval_<split>`` (MAE, max F, S, mean E); ``make_pseudo``: ``seed``, ``pseudo_nocrf``,
``pseudo_crf`` (mIoU against ground truth); ``eval_seg``: ``<split>_<ss|ms>[_flip][_crf]``; ``eval_labels``:
the name given (default ``labels``); ``eval_saliency``: ``sod``; ``make_saliency``: ``run`` (counts).

Every write is atomic (temporary file + rename). :func:`update_section` adds or replaces one section and keeps
the others, so several evaluations of one run (single scale, flip + CRF, ...) share one file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from wsss.utils.io import atomic_write_json

SCHEMA = 'wsss-metrics/1'
FILENAME = 'metrics.json'
STAGES = ('train_saliency', 'make_saliency', 'eval_saliency', 'train_cam', 'make_pseudo', 'eval_labels',
          'train_seg', 'eval_seg')

__all__ = ['SCHEMA', 'FILENAME', 'STAGES', 'RunRecord', 'record_path', 'write_record', 'update_section',
           'read_record']


@dataclass
class RunRecord:
    """One ``metrics.json``: what ran (stage, config, inputs) and what it measured (sections)."""
    stage: str
    name: str
    sections: dict[str, dict] = field(default_factory=dict)
    config: Optional[str] = None
    inputs: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {'schema': SCHEMA, 'stage': self.stage, 'name': self.name, 'config': self.config,
                'inputs': _jsonable(self.inputs), 'sections': _jsonable(self.sections)}

    def section(self, name: str) -> dict:
        """One section; a missing one is an error that lists the sections there are."""
        if name not in self.sections:
            raise KeyError(f'run {self.name!r} ({self.stage}) has no section {name!r}; it has {list(self.sections)}')
        return self.sections[name]


def _jsonable(obj: Any) -> Any:
    """Paths, tuples and numpy scalars as plain JSON values."""
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, 'item') else str(o)))


def record_path(path: str | os.PathLike) -> Path:
    """``path`` itself if it names a ``.json`` file, else ``<path>/metrics.json``."""
    path = Path(path)
    return path if path.suffix == '.json' else path / FILENAME


def write_record(path: str | os.PathLike, stage: str, sections: Mapping[str, dict], name: Optional[str] = None,
                 config: Optional[str] = None, inputs: Optional[Mapping[str, Any]] = None) -> RunRecord:
    """Write a whole record (replacing the file), atomically. ``path``: a folder or a ``.json`` file."""
    if stage not in STAGES:
        raise ValueError(f'unknown stage {stage!r}; one of {STAGES}')
    f = record_path(path)
    rec = RunRecord(stage=stage, name=name or f.parent.name, sections=dict(sections), config=config,
                    inputs=dict(inputs or {}))
    atomic_write_json(f, rec.to_json())
    return rec


def update_section(path: str | os.PathLike, stage: str, section: str, metrics: Mapping[str, Any],
                   name: Optional[str] = None, config: Optional[str] = None,
                   inputs: Optional[Mapping[str, Any]] = None) -> RunRecord:
    """Add or replace one section of the record at ``path`` (created if absent), keeping the others; the
    record's stage, name, config and inputs are updated to the given ones."""
    f = record_path(path)
    old = read_record(f) if f.is_file() else None
    sections = dict(old.sections) if old is not None else {}
    sections[section] = dict(metrics)
    merged_inputs = {**(old.inputs if old is not None else {}), **dict(inputs or {})}
    return write_record(f, stage, sections, name=name or (old.name if old is not None else None),
                        config=config or (old.config if old is not None else None), inputs=merged_inputs)


def read_record(path: str | os.PathLike) -> RunRecord:
    """Read ``<path>/metrics.json`` (or the ``.json`` file ``path``); errors name the file and what is wrong."""
    f = record_path(path)
    if not f.is_file():
        raise FileNotFoundError(f'metrics file not found: {f}')
    try:
        doc = json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f'{f}: invalid JSON ({e})') from e
    if not isinstance(doc, dict) or not isinstance(doc.get('sections'), dict):
        raise ValueError(f'{f}: not a wsss run record (expected an object with "sections"; schema {SCHEMA}, '
                         'docs/ARCHITECTURE.md). Files written by older versions: rerun the stage.')
    if doc.get('schema', SCHEMA) != SCHEMA:
        raise ValueError(f'{f}: schema {doc.get("schema")!r} is not {SCHEMA!r}')
    for sec, d in doc['sections'].items():
        if not isinstance(d, dict):
            raise ValueError(f'{f}: section {sec!r} must be an object, got {type(d).__name__}')
        miou = d.get('mIoU')
        if miou is not None and (isinstance(miou, bool) or not isinstance(miou, (int, float))):
            raise ValueError(f'{f}: section {sec!r}: mIoU must be a number, got {miou!r}')
        if not isinstance(d.get('IoU', {}), dict):
            raise ValueError(f'{f}: section {sec!r}: IoU must be a {{class: value}} object')
    name = doc.get('name') if isinstance(doc.get('name'), str) else f.parent.name
    return RunRecord(stage=str(doc.get('stage') or ''), name=name, sections=dict(doc['sections']),
                     config=doc.get('config'), inputs=dict(doc.get('inputs') or {}))
