"""Config loading shared by the tools: mmengine ``Config`` + ``--cfg-options`` + work-dir bookkeeping."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Optional

from mmengine.config import Config, DictAction


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='mmengine Python config (configs/...)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. data_root=/data/VOC2012 saliency_dir=saliency/poor '
                             'train_cfg.max_iters=100')


def load_config(path: str, options: Optional[dict] = None) -> Config:
    if not Path(path).is_file():
        raise FileNotFoundError(f'config not found: {path}')
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    return cfg


def default_work_dir(config_path: str, root: str = 'work_dirs') -> str:
    """mmseg convention: the config's name is the default work dir."""
    return os.path.join(root, Path(config_path).stem)


def dump_config(cfg: Config, out_dir: str | Path, name: str = 'config.py') -> None:
    from wsss.utils.io import atomic_write_bytes
    atomic_write_bytes(Path(out_dir) / name, cfg.pretty_text.encode())
