"""Result tables from runs' ``metrics.json`` (the one schema of :mod:`wsss.engine.records`), Markdown + CSV.

``per_class`` mode: one row per run/section, columns = per-class IoU + mIoU (paper style, 1 decimal, VOC short
names in the Markdown header). ``summary`` mode: one row per run/section, numeric scalar columns only (mIoU
first; a section's top-level numbers and its ``extra`` numbers), for ablations. The CSV holds the same table
with full precision (columns ``run`` and ``section`` included).

Every Markdown table of the project (these, the demo's report, the ablation) is drawn by :func:`markdown_table`.
"""
from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from wsss.engine.records import read_record
from wsss.utils.io import atomic_write_bytes

__all__ = ['SectionMetrics', 'load_run', 'per_class_table', 'summary_table', 'markdown_table', 'to_markdown',
           'make_table', 'VOC_SHORT']

#: paper-style abbreviations of the VOC class names (Markdown headers)
VOC_SHORT = {'background': 'bkg', 'aeroplane': 'aero', 'bicycle': 'bike', 'bird': 'bird', 'boat': 'boat',
             'bottle': 'bottle', 'bus': 'bus', 'car': 'car', 'cat': 'cat', 'chair': 'chair', 'cow': 'cow',
             'diningtable': 'table', 'dog': 'dog', 'horse': 'horse', 'motorbike': 'mbike', 'person': 'person',
             'pottedplant': 'plant', 'sheep': 'sheep', 'sofa': 'sofa', 'train': 'train', 'tvmonitor': 'tv'}


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: Optional[Sequence[str]] = None
                   ) -> str:
    """A GitHub pipe table (no trailing newline). Cells are written with ``str``; ``align`` gives one marker
    per column (``'---'``, ``':---'``, ``'---:'``), default ``'---'`` everywhere."""
    align = ['---'] * len(header) if align is None else list(align)
    if len(align) != len(header):
        raise ValueError(f'{len(align)} alignment markers for {len(header)} columns')
    lines = ['| ' + ' | '.join(map(str, header)) + ' |', '|' + '|'.join(align) + '|']
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f'a row has {len(row)} cells for {len(header)} columns: {list(row)}')
        lines.append('| ' + ' | '.join(map(str, row)) + ' |')
    return '\n'.join(lines)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class SectionMetrics:
    """One evaluated section of one run (a row of a table)."""
    run: str
    section: str
    mIoU: float | None = None
    IoU: dict[str, float | None] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)   # numeric columns (mIoU excluded)
    label: str = ''                                           # row label in tables


def load_run(path: str | os.PathLike, name: str | None = None) -> list[SectionMetrics]:
    """The sections of ``<path>/metrics.json`` (or of the ``.json`` file ``path``) as table rows; ``name``
    replaces the record's name. A record without sections is an error naming the file."""
    rec = read_record(path)
    run = name or rec.name
    secs = []
    for sec, d in rec.sections.items():
        scalars = {k: v for k, v in d.items() if k != 'mIoU' and _is_num(v)}
        scalars.update({k: v for k, v in (d.get('extra') or {}).items() if _is_num(v)})
        secs.append(SectionMetrics(run, sec, d.get('mIoU'), dict(d.get('IoU') or {}), scalars))
    if not secs:
        raise ValueError(f'{path}: the run record has no sections (nothing was measured)')
    for s in secs:
        s.label = run if len(secs) == 1 else f'{run}/{s.section}'
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
    """Markdown table of ``df`` (index = first column); numbers right-aligned, missing values as '–'.

    Columns listed in ``df.attrs['int_columns']`` (counts such as ``num_images``) print as integers.
    """
    cols = [c for c in df.columns if c not in drop]
    int_cols = set(df.attrs.get('int_columns', ()))
    header = [df.index.name or ''] + [VOC_SHORT.get(c, c) if short_names else str(c) for c in cols]
    rows = [[str(label), *[_fmt(v, decimals, c in int_cols) for c, v in zip(cols, row)]]
            for label, row in zip(df.index, df[cols].itertuples(index=False))]
    return markdown_table(header, rows, [':---'] + ['---:'] * len(cols)) + '\n'


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
