"""Result tables from runs' ``metrics.json`` files (Markdown + CSV).

metrics.json schema
-------------------
Sectioned (canonical) form -- one file may hold several evaluations of a run::

    {
      "name": "eps_r38",                      # optional display name (default: the run folder name)
      "sections": {
        "pseudo_nocrf": {
          "mIoU": 69.22,                      # ×100
          "IoU": {"background": 88.1, "aeroplane": 80.2, ...},   # optional, per class, ×100, null = NaN
          "aAcc": 90.1, "mAcc": 80.3, "num_images": 1464,        # any numeric scalar = summary column
          "extra": {"context_fg_rate": 0.31}  # optional numeric scalars = summary columns
          # other keys (dicts such as "Acc"/"raw", strings such as "split") are kept, not tabulated
        },
        "pseudo_crf": {...}
      },
      "extra": {"seed": 0}                    # optional run-level scalars, added to every row
    }

Flat (legacy) form, e.g. what ``tools/eval_labels.py`` writes::

    {"mIoU": 70.9, "IoU": {...}, "seed_mIoU": 50.1, ...}

is read as one section named ``main``; in a flat file, top-level dict values that contain ``mIoU``
or ``IoU`` (``{"pseudo_nocrf": {...}, "pseudo_crf": {...}}``) are read as further sections, and
top-level numeric scalars are run-level columns. Reserved (never sections): ``IoU``, ``Acc``,
``raw``, ``extra``.

Tables
------
``per_class`` mode: one row per run/section, columns = per-class IoU + mIoU (paper style,
1 decimal, VOC short names in the Markdown header). ``summary`` mode: one row per run/section,
numeric scalar columns only (mIoU first), for ablations. The CSV holds the same table with full
precision (columns ``run`` and ``section`` included).
"""
from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from wsss.utils.io import atomic_write_bytes, atomic_write_json

__all__ = ['SectionMetrics', 'load_metrics', 'load_run', 'per_class_table', 'summary_table', 'to_markdown',
           'make_table', 'write_metrics', 'update_metrics_section', 'VOC_SHORT']

RESERVED = ('IoU', 'Acc', 'raw', 'extra')
MAIN = 'main'

#: paper-style abbreviations of the VOC class names (Markdown headers)
VOC_SHORT = {'background': 'bkg', 'aeroplane': 'aero', 'bicycle': 'bike', 'bird': 'bird', 'boat': 'boat',
             'bottle': 'bottle', 'bus': 'bus', 'car': 'car', 'cat': 'cat', 'chair': 'chair', 'cow': 'cow',
             'diningtable': 'table', 'dog': 'dog', 'horse': 'horse', 'motorbike': 'mbike', 'person': 'person',
             'pottedplant': 'plant', 'sheep': 'sheep', 'sofa': 'sofa', 'train': 'train', 'tvmonitor': 'tv'}


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _looks_like_section(v: Any) -> bool:
    return isinstance(v, dict) and ('mIoU' in v or 'IoU' in v)


@dataclass
class SectionMetrics:
    """One evaluated section of one run."""
    run: str
    section: str
    mIoU: float | None = None
    IoU: dict[str, float | None] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)   # numeric columns (mIoU excluded)
    label: str = ''                                           # row label in tables


def _section_from_dict(run: str, section: str, d: dict, run_extra: dict) -> SectionMetrics:
    scalars = {k: v for k, v in run_extra.items()}
    for k, v in d.items():
        if k != 'mIoU' and _is_num(v):
            scalars[k] = v
    for k, v in (d.get('extra') or {}).items():
        if _is_num(v):
            scalars[k] = v
    miou = d.get('mIoU')
    if miou is not None and not _is_num(miou):
        raise ValueError(f'run {run!r}, section {section!r}: mIoU must be a number, got {miou!r}')
    iou = d.get('IoU') or {}
    if not isinstance(iou, dict):
        raise ValueError(f'run {run!r}, section {section!r}: IoU must be a {{class: value}} dict')
    return SectionMetrics(run, section, miou, dict(iou), scalars)


def load_metrics(doc: dict, name: str) -> list[SectionMetrics]:
    """Parse a metrics.json document (either form) into sections; ``name`` is the fallback run name."""
    if not isinstance(doc, dict):
        raise ValueError(f'run {name!r}: metrics.json must hold a JSON object')
    run = doc.get('name') if isinstance(doc.get('name'), str) else name
    if 'sections' in doc:
        secs = doc['sections']
        if not isinstance(secs, dict):
            raise ValueError(f'run {run!r}: "sections" must be an object')
        run_extra = {k: v for k, v in (doc.get('extra') or {}).items() if _is_num(v)}
        out = [_section_from_dict(run, s, d, run_extra) for s, d in secs.items()]
    else:
        nested = {k: v for k, v in doc.items() if k not in RESERVED and _looks_like_section(v)}
        run_extra = {k: v for k, v in doc.items() if _is_num(v) and k != 'mIoU'}
        run_extra.update({k: v for k, v in (doc.get('extra') or {}).items() if _is_num(v)})
        out = []
        if 'mIoU' in doc or 'IoU' in doc:
            out.append(_section_from_dict(run, MAIN, {k: v for k, v in doc.items() if k not in nested},
                                          {}))
        out += [_section_from_dict(run, s, d, run_extra) for s, d in nested.items()]
        if not out and run_extra:   # scalars only (e.g. a stage that reports rates only)
            out.append(SectionMetrics(run, MAIN, None, {}, run_extra))
    if not out:
        raise ValueError(f'run {run!r}: no metrics found (expected "mIoU"/"IoU" or "sections")')
    for s in out:
        s.label = run if len(out) == 1 else f'{run}/{s.section}'
    return out


def load_run(path: str | os.PathLike, name: str | None = None) -> list[SectionMetrics]:
    """Read ``<path>/metrics.json`` (or ``path`` itself if it is a file)."""
    path = Path(path)
    is_file = path.is_file() or path.suffix == '.json'
    f = path if is_file else path / 'metrics.json'
    if not f.is_file():
        raise FileNotFoundError(f'metrics file not found: {f}')
    try:
        doc = json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f'{f}: invalid JSON ({e})') from e
    secs = load_metrics(doc, name or (path.parent.name if is_file else path.name))
    if name:   # an explicit name wins over the file's "name"
        for s in secs:
            s.run = name
            s.label = name if len(secs) == 1 else f'{name}/{s.section}'
    return secs


def _class_order(sections: Sequence[SectionMetrics]) -> list[str]:
    seen: dict[str, None] = {}
    for s in sections:
        for c in s.IoU:
            seen.setdefault(c, None)
    return list(seen)


def per_class_table(sections: Sequence[SectionMetrics], class_names: Sequence[str] | None = None):
    """DataFrame indexed by row label: columns ``run``, ``section``, per-class IoU..., ``mIoU``."""
    import pandas as pd
    classes = list(class_names) if class_names is not None else _class_order(sections)
    rows = []
    for s in sections:
        row = {'run': s.run, 'section': s.section}
        row.update({c: s.IoU.get(c) for c in classes})
        row['mIoU'] = s.mIoU
        rows.append(row)
    df = pd.DataFrame(rows, index=[s.label for s in sections], columns=['run', 'section', *classes, 'mIoU'])
    df.index.name = 'method'
    return df


def summary_table(sections: Sequence[SectionMetrics], columns: Sequence[str] | None = None):
    """DataFrame with one row per run/section and numeric scalar columns only (``mIoU`` first)."""
    import pandas as pd
    if columns is None:
        seen: dict[str, None] = {}
        for s in sections:
            for k in s.scalars:
                seen.setdefault(k, None)
        columns = ['mIoU', *[k for k in seen if k != 'mIoU']]
    rows = []
    for s in sections:
        vals = {'mIoU': s.mIoU, **s.scalars}
        rows.append({'run': s.run, 'section': s.section, **{c: vals.get(c) for c in columns}})
    df = pd.DataFrame(rows, index=[s.label for s in sections], columns=['run', 'section', *columns])
    df.index.name = 'method'
    df.attrs['int_columns'] = [c for c in columns if _all_int([r[c] for r in rows])]
    return df


def _all_int(vals: list) -> bool:
    vals = [v for v in vals if not _missing(v)]
    return bool(vals) and all(isinstance(v, int) and not isinstance(v, bool) for v in vals)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt(v: Any, decimals: int, as_int: bool = False) -> str:
    if _missing(v):
        return '–'
    if isinstance(v, (bool, str)):
        return str(v)
    if as_int:
        return str(int(v))
    return f'{float(v):.{decimals}f}'


def to_markdown(df, decimals: int = 1, short_names: bool = True, drop: Sequence[str] = ('run', 'section')) -> str:
    """Markdown (GitHub pipe) table of ``df``; numbers right-aligned, missing values as '–'.

    Columns listed in ``df.attrs['int_columns']`` (counts such as ``num_images``) print as integers.
    """
    cols = [c for c in df.columns if c not in drop]
    int_cols = set(df.attrs.get('int_columns', ()))
    header = [df.index.name or ''] + [VOC_SHORT.get(c, c) if short_names else str(c) for c in cols]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join([':---'] + ['---:'] * len(cols)) + '|']
    for label, row in zip(df.index, df[cols].itertuples(index=False)):
        cells = [_fmt(v, decimals, c in int_cols) for c, v in zip(cols, row)]
        lines.append('| ' + ' | '.join([str(label), *cells]) + ' |')
    return '\n'.join(lines) + '\n'


def _out_paths(out: str | os.PathLike) -> tuple[Path, Path]:
    out = Path(out)
    stem = out.with_suffix('') if out.suffix.lower() in ('.md', '.csv') else out
    return stem.with_name(stem.name + '.md'), stem.with_name(stem.name + '.csv')


def make_table(run_paths: Sequence[str | os.PathLike], names: Sequence[str] | None = None,
               mode: str = 'per_class', out: str | os.PathLike | None = None, decimals: int | None = None,
               sections: Sequence[str] | None = None, short_names: bool = True) -> str:
    """Build the table of several runs; write ``<out>.md`` and ``<out>.csv`` if ``out``; return Markdown.

    ``mode``: ``'per_class'`` (per-class IoU + mIoU) or ``'summary'`` (numeric scalars).
    ``sections``: keep only these section names. ``decimals``: 1 (per_class) / 2 (summary) by default.
    """
    if names is not None and len(names) != len(run_paths):
        raise ValueError(f'{len(names)} names for {len(run_paths)} runs')
    secs: list[SectionMetrics] = []
    for i, p in enumerate(run_paths):
        secs += load_run(p, names[i] if names is not None else None)
    if sections:
        secs = [s for s in secs if s.section in set(sections)]
        if not secs:
            raise ValueError(f'no section named {list(sections)} in the given runs')
    if mode == 'per_class':
        df = per_class_table(secs)
        decimals = 1 if decimals is None else decimals
    elif mode == 'summary':
        df = summary_table(secs)
        decimals = 2 if decimals is None else decimals
    else:
        raise ValueError(f"mode must be 'per_class' or 'summary', got {mode!r}")
    md = to_markdown(df, decimals=decimals, short_names=short_names)
    if out is not None:
        md_path, csv_path = _out_paths(out)
        buf = io.StringIO()
        df.to_csv(buf)
        atomic_write_bytes(md_path, md.encode())
        atomic_write_bytes(csv_path, buf.getvalue().encode())
    return md


# ---------------------------------------------------------------- writers (for stages)
def write_metrics(path: str | os.PathLike, sections: dict[str, dict], name: str | None = None,
                  extra: dict | None = None) -> dict:
    """Write a metrics.json in the sectioned form, atomically; returns the document."""
    doc: dict[str, Any] = {}
    if name is not None:
        doc['name'] = name
    doc['sections'] = dict(sections)
    if extra:
        doc['extra'] = dict(extra)
    atomic_write_json(path, doc)
    return doc


def update_metrics_section(path: str | os.PathLike, section: str, metrics: dict,
                           name: str | None = None) -> dict:
    """Add or replace one section of ``path`` (sectioned form), atomically.

    An existing flat file is converted: its ``mIoU``/``IoU``... become section ``main``, its nested
    sections stay sections, its remaining top-level scalars become run-level ``extra``.
    """
    path = Path(path)
    doc: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    if doc and 'sections' not in doc:
        nested = {k: v for k, v in doc.items() if k not in RESERVED and _looks_like_section(v)}
        secs: dict[str, Any] = {}
        if 'mIoU' in doc or 'IoU' in doc:
            secs[MAIN] = {k: v for k, v in doc.items() if k not in nested and k != 'name'}
            extra = {}
        else:
            extra = {k: v for k, v in doc.items() if k not in nested and k != 'name' and _is_num(v)}
        secs.update(nested)
        old_name = doc.get('name')
        doc = {'name': old_name} if old_name else {}
        doc['sections'] = secs
        if extra:
            doc['extra'] = extra
    doc.setdefault('sections', {})
    if name is not None:
        doc = {'name': name, **{k: v for k, v in doc.items() if k != 'name'}}
    doc['sections'][section] = metrics
    atomic_write_json(path, doc)
    return doc
