"""Loggers of the stages: console + a log file in the work dir (mmengine ``MMLogger``)."""
from __future__ import annotations

from pathlib import Path

from mmengine.logging import MMLogger


def get_logger(work_dir: str | Path, name: str = 'wsss') -> MMLogger:
    """Console + ``<work_dir>/<name>.log`` (appended; one logger per (name, folder))."""
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    inst = f'{name}:{Path(work_dir).resolve()}'
    if MMLogger.check_instance_created(inst):
        return MMLogger.get_instance(inst)
    return MMLogger.get_instance(inst, logger_name=name, log_file=str(Path(work_dir) / f'{name}.log'),
                                 log_level='INFO', file_mode='a')
