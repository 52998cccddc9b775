"""A folder that a stage fills file by file is resumed only from the same inputs.

The pseudo-label and saliency-map stages skip the images whose files exist, so an interrupted run continues where
it stopped. Rerun into the same folder with another checkpoint or other settings, that would keep the old files
beside the new ones and report their mix as one run. The first run writes what its files are made from
(:data:`STAMP`: the checkpoint's SHA-256 and the settings that change the files) before it writes any; a later
run compares and refuses, naming each differing entry, unless told to overwrite. A folder filled before stamps
existed is adopted with a warning (its files are trusted, as they were).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Optional

from wsss.engine.resume_check import json_form
from wsss.utils.io import atomic_write_json

STAMP = '_inputs.json'


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (a checkpoint's identity wherever it was copied)."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def check_output_stamp(out_dir: str | os.PathLike, stamp: dict, has_files: bool, overwrite: bool = False,
                       warn: Optional[Callable[[str], None]] = None, hint: str = '') -> None:
    """Refuse (``ValueError``) if ``out_dir`` holds files made from other inputs than ``stamp``; otherwise write
    the stamp (before the caller writes any file). ``has_files``: whether the folder already holds outputs (a
    folder with outputs and no stamp is adopted, with ``warn``; without outputs the stamp is simply replaced);
    ``overwrite``: the caller rewrites every file, so the new stamp replaces the old; ``hint``: how to do that,
    added to the error."""
    out_dir = Path(out_dir)
    path = out_dir / STAMP
    stamp = json_form(stamp)
    if path.is_file() and has_files and not overwrite:
        try:
            old = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f'{path} is not valid JSON ({e}); delete it if the files in {out_dir} are '
                             f'known to come from the current inputs') from e
        diffs = sorted(k for k in set(old) | set(stamp) if old.get(k, '<unset>') != stamp.get(k, '<unset>'))
        if diffs:
            lines = '\n'.join(f'  {k}: files made from {json.dumps(old.get(k, "<unset>"))[:200]}\n'
                              f'  {" " * len(k)}  now            {json.dumps(stamp.get(k, "<unset>"))[:200]}'
                              for k in diffs)
            raise ValueError(f'{out_dir} holds files made from other inputs ({path}); continuing would mix two '
                             f'runs. Differing entries:\n{lines}\nChoose another output folder or delete this one'
                             + (f' ({hint})' if hint else '') + '.')
        return
    if has_files and not path.is_file() and not overwrite and warn is not None:
        warn(f'{out_dir} holds files but no {STAMP}: adopting them as made from the current inputs')
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, stamp)
