"""What the drivers share: the repository's configs with the driver's data root, and the guard that refuses
to resume runs made from another synthetic data set."""
from __future__ import annotations

import json
from pathlib import Path

from mmengine.config import Config

from wsss.datasets.synthetic import read_synthetic_meta
from wsss.engine.config import load_config
from wsss.utils.io import atomic_write_json


def repo_config(repo: str | Path, path: str, data_root: str | Path, **options) -> Config:
    """``<repo>/<path>`` with ``data_root`` and ``options`` applied (as ``--cfg-options``)."""
    return load_config(Path(repo) / path, {'data_root': str(data_root), **options})


def check_runs_match_data(work_dir: str | Path, data_root: str | Path) -> None:
    """Refuse to resume runs in ``work_dir`` that were made from another synthetic set (other generator
    version, seed or sizes): their finished stages would be silently reused. No-op for other data roots."""
    meta = read_synthetic_meta(data_root)
    if meta is None:
        return
    stamp = Path(work_dir) / 'data_meta.json'
    key = {k: meta.get(k) for k in ('generator', 'version', 'seed', 'args')}
    if not stamp.is_file():
        atomic_write_json(stamp, key)
    elif json.loads(stamp.read_text()) != key:
        raise RuntimeError(f'{work_dir} holds runs made from another synthetic set ({stamp}: '
                           f'{stamp.read_text().strip()}; now {json.dumps(key)}); delete it or name another '
                           'work dir')
