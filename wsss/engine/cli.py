"""The tools' shared command-line pieces: the config argument with ``--cfg-options`` (unknown keys refused),
``--no-check`` (skip the data checks) and the run flags of the training stages (``--work-dir``, ``--resume``,
``--stop-at``). Tools parse, load the config, call one stage."""
from __future__ import annotations

import argparse
from typing import Optional, Sequence

from mmengine.config import Config, DictAction

from wsss.engine.config import default_work_dir, load_config
from wsss.engine.config_keys import ConfigKeyError


def make_parser(doc: Optional[str]) -> argparse.ArgumentParser:
    """A parser whose ``--help`` shows the tool's module docstring (usage examples included) verbatim."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('config', help='mmengine Python config (configs/...)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. data_root=/data/VOC2012 saliency_dir=saliency/poor '
                             'train_cfg.max_iters=100')


def add_check_arg(parser: argparse.ArgumentParser) -> None:
    """``--no-check``: skip the data checks the stage runs before it starts (same as ``check_data=False``)."""
    parser.add_argument('--no-check', action='store_true',
                        help='skip the input checks before the stage starts (every image decoded, masks, labels and '
                             'saliency maps checked; ~0.5-2 min on VOC train_aug); same as --cfg-options '
                             'check_data=False')


def add_run_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--resume``, ``--stop-at`` of every training tool."""
    parser.add_argument('--work-dir', help='output folder (checkpoints, train.log, config.py, metrics.json); '
                                           'default work_dirs/<config name>')
    parser.add_argument('--resume', action='store_true', help='continue from <work-dir>/latest.pth')
    parser.add_argument('--stop-at', type=int,
                        help='pause after this many iterations (latest.pth is written; continue with --resume)')


def training_parser(doc: Optional[str], data_check: bool = False) -> argparse.ArgumentParser:
    """The parser of a training tool: the config with ``--cfg-options`` and ``--work-dir/--resume/--stop-at``
    (and ``--no-check`` for ``data_check``: the stages that check a VOC-format data set first)."""
    parser = make_parser(doc)
    add_config_args(parser)
    add_run_args(parser)
    if data_check:
        add_check_arg(parser)
    return parser


def parse_config(parser: argparse.ArgumentParser, argv: Optional[Sequence[str]] = None
                 ) -> tuple[argparse.Namespace, Config]:
    """Parse ``argv`` and load the config with its ``--cfg-options``; fills ``args.work_dir`` with the default
    when the parser has that flag and it was not given, and sets ``check_data=False`` for ``--no-check``.
    Unknown config keys end the tool with the error (exit status 2) naming each and its likely spelling."""
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.cfg_options)
    except ConfigKeyError as e:
        parser.error(str(e))
    if getattr(args, 'no_check', False):
        cfg.check_data = False
    if hasattr(args, 'work_dir') and not args.work_dir:
        args.work_dir = default_work_dir(args.config)
    return args, cfg
