"""Config loading shared by every stage: mmengine ``Config`` + ``--cfg-options`` (unknown keys refused:
:mod:`wsss.engine.config_keys`) + the resolved copy in the work dir."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from mmengine.config import Config

from wsss.engine.config_keys import check_config_keys
from wsss.utils.io import atomic_write_bytes


def load_config(path: str | os.PathLike, options: Optional[dict] = None, check_keys: bool = True) -> Config:
    """Read a config file and apply ``options`` (``{'train_cfg.max_iters': 100, ...}``, as ``--cfg-options``).

    With ``check_keys`` (default) a key that nothing reads, in the file or in ``options``, is a
    :class:`~wsss.engine.config_keys.ConfigKeyError` naming it and its closest valid spelling."""
    if not Path(path).is_file():
        raise FileNotFoundError(f'config not found: {path}')
    cfg = Config.fromfile(str(path))
    if options:
        cfg.merge_from_dict(options)
    if check_keys:
        check_config_keys(cfg, options, source=str(path))
    return cfg


def default_work_dir(config_path: str | os.PathLike, root: str = 'work_dirs') -> str:
    """mmseg convention: the config's name is the default work dir."""
    return os.path.join(root, Path(config_path).stem)


def config_source(cfg: Config) -> Optional[str]:
    """The file a config was read from (recorded in each stage's ``metrics.json``)."""
    return getattr(cfg, 'filename', None) or None


def dump_config(cfg: Config, out_dir: str | Path, name: str = 'config.py') -> None:
    """Write the resolved config (with every override applied) into the stage's output folder."""
    atomic_write_bytes(Path(out_dir) / name, cfg.pretty_text.encode())
