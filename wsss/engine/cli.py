"""The tools' shared command-line pieces: the config argument with ``--cfg-options``, and the run flags of the
training stages (``--work-dir``, ``--resume``, ``--stop-at``). Tools parse, load the config, call one stage."""
from __future__ import annotations

import argparse
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from wsss.engine.config import default_work_dir, load_config


def make_parser(doc: Optional[str]) -> argparse.ArgumentParser:
    """A parser whose ``--help`` shows the tool's module docstring (usage examples included) verbatim."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='mmengine Python config (configs/...)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. data_root=/data/VOC2012 saliency_dir=saliency/poor '
                             'train_cfg.max_iters=100')


def add_run_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--resume``, ``--stop-at`` of every training tool."""
    parser.add_argument('--work-dir', help='output folder (checkpoints, train.log, config.py, metrics.json); '
                                           'default work_dirs/<config name>')
    parser.add_argument('--resume', action='store_true', help='continue from <work-dir>/latest.pth')
    parser.add_argument('--stop-at', type=int,
                        help='pause after this many iterations (latest.pth is written; continue with --resume)')


def training_parser(doc: Optional[str]) -> argparse.ArgumentParser:
    """The parser of a training tool: the config with ``--cfg-options`` and ``--work-dir/--resume/--stop-at``."""
    parser = make_parser(doc)
    add_config_args(parser)
    add_run_args(parser)
    return parser


def parse_config(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None
                 ) -> tuple[argparse.Namespace, Config]:
    """Parse ``argv`` and load the config with its ``--cfg-options``; fills ``args.work_dir`` with the default
    when the parser has that flag and it was not given."""
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if hasattr(args, 'work_dir') and not args.work_dir:
        args.work_dir = default_work_dir(args.config)
    return args, cfg
