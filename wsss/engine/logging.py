"""Loggers of the stages: console + a log file in the work dir (mmengine ``MMLogger``)."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mmengine.logging import MMLogger


def get_logger(work_dir: str | Path, name: str = 'wsss') -> MMLogger:
    """Console + ``<work_dir>/<name>.log`` (appended; one logger per (name, folder))."""
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    inst = f'{name}:{Path(work_dir).resolve()}'
    if MMLogger.check_instance_created(inst):
        return MMLogger.get_instance(inst)
    return MMLogger.get_instance(inst, logger_name=name, log_file=str(Path(work_dir) / f'{name}.log'),
                                 log_level='INFO', file_mode='a')


class _DropMatching(logging.Filter):
    """Drops the records whose message contains ``text``; counts them."""

    def __init__(self, text: str):
        super().__init__()
        self.text, self.dropped = text, 0

    def filter(self, record: logging.LogRecord) -> bool:
        if self.text in record.getMessage():
            self.dropped += 1
            return False
        return True


@contextmanager
def quiet_current_logger(text: str) -> Iterator[_DropMatching]:
    """Drop the messages containing ``text`` that mmengine sends to its current logger (``print_log(...,
    logger='current')``) inside the block; ``.dropped`` counts them (e.g. one warning per frozen parameter)."""
    logger = MMLogger.get_current_instance()
    drop = _DropMatching(text)
    logger.addFilter(drop)
    try:
        yield drop
    finally:
        logger.removeFilter(drop)
