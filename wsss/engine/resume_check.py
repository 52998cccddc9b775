"""A training run resumes only under the config it was started with.

A stage resumed in a work dir that holds ``latest.pth`` / ``final.pth`` continues (or reports finished) the run
saved there. Under another model, optimiser, schedule or data the result would be two runs mixed, or an old run's
weights under the new run's ``config.py`` (the stage rewrites it). :func:`check_same_run` compares the keys that
decide what a run learns (:data:`RUN_KEYS`) with the ``config.py`` of the work dir and refuses, naming each
differing key, before anything is written; the saliency keys count only for a model trained on saliency maps
(:data:`SALIENCY_KEYS`). Keys that only change speed or logging (workers, intervals, device, ``channels_last``) and
the settings of later stages that share the config (``pseudo``) may change.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from mmengine.config import Config

#: what a training run learns from: a resumed run must have the same values
RUN_KEYS = ('model', 'optim_wrapper', 'param_scheduler', 'paramwise_cfg', 'train_dataset', 'data_root',
            'label_dir', 'train_cfg.max_iters', 'train_cfg.batch_size', 'train_cfg.seed')
#: added by a stage whose model reads saliency maps in training (EPS family); a SeeNet or plain CAM trained once
#: serves every saliency source of an ablation
SALIENCY_KEYS = ('saliency_dir', 'saliency_source')
CHECKPOINTS = ('latest.pth', 'final.pth')
_MISSING = '<unset>'


def _value(cfg, dotted: str):
    node = cfg
    for part in dotted.split('.'):
        if not hasattr(node, 'get'):
            return _MISSING
        node = node.get(part, _MISSING)
        if node is _MISSING:
            return _MISSING
    return json_form(node)


def json_form(obj):
    """``obj`` as it reads back from JSON or a dumped config (tuples and lists alike): the form to compare."""
    return json.loads(json.dumps(obj, default=str, sort_keys=True))


def changed_keys(old, new, keys: Sequence[str] = RUN_KEYS) -> list[str]:
    """The ``keys`` whose values differ between two configs."""
    return [k for k in keys if _value(old, k) != _value(new, k)]


def check_same_run(cfg, work_dir: str | Path, keys: Sequence[str] = RUN_KEYS) -> None:
    """Raise ``ValueError`` if ``work_dir`` holds a checkpoint trained under a config whose ``keys`` differ from
    ``cfg``'s (nothing to check when there is no checkpoint or no ``config.py``)."""
    work_dir = Path(work_dir)
    saved = work_dir / 'config.py'
    ckpts = [work_dir / c for c in CHECKPOINTS if (work_dir / c).is_file()]
    if not ckpts or not saved.is_file():
        return
    old = Config.fromfile(str(saved))
    diffs = changed_keys(old, cfg, keys)
    if diffs:
        lines = '\n'.join(f'  {k}: saved {_value(old, k)!r:.200}\n'
                          f'  {" " * len(k)}  now   {_value(cfg, k)!r:.200}' for k in diffs)
        raise ValueError(f'{work_dir} holds a run ({", ".join(c.name for c in ckpts)}) trained under another '
                         f'config ({saved}); resuming would mix two runs. Differing keys:\n{lines}\n'
                         f'Delete {work_dir} (or choose another work dir) to train under the new config.')
