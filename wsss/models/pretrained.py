"""Backbone initialisation: ``pretrained`` must be set on purpose before a model is trained.

A backbone's ``pretrained`` is a local weight file (never downloaded), ``True`` for the weights a package ships
(EfficientNet-Lite0), or :data:`RANDOM_INIT` (``'none'``): random initialisation, chosen on purpose. Left unset
(None, the constructors' default for loading a checkpoint later) a model would train from random weights without
a word, so the training stages call :func:`require_pretrained` first: with ``pretrained`` unset it raises an
error that names the key to set. Inference stages load full checkpoints and do not ask.
"""
from __future__ import annotations

import inspect
from typing import Any, Iterator, Mapping, Optional

from wsss.registry import BACKBONES

__all__ = ['RANDOM_INIT', 'weights_source', 'unset_pretrained', 'require_pretrained', 'PretrainedNotSetError']

#: the explicit value of ``pretrained`` for "train from random weights on purpose"
RANDOM_INIT = 'none'


class PretrainedNotSetError(ValueError):
    """A training stage would start a backbone from random weights without the config saying so."""


def weights_source(pretrained: Any) -> Any:
    """What a backbone loads: None for random weights (None, False or :data:`RANDOM_INIT`), else the value
    (a path, or True for packaged weights)."""
    if pretrained is None or pretrained is False:
        return None
    if isinstance(pretrained, str) and pretrained.strip().lower() == RANDOM_INIT:
        return None
    return pretrained


def _backbones(cfg: Any, path: str) -> Iterator[tuple[str, Mapping]]:
    if isinstance(cfg, Mapping):
        for k, v in cfg.items():
            if k == 'backbone' and isinstance(v, Mapping):
                yield f'{path}.{k}', v
            yield from _backbones(v, f'{path}.{k}')


def unset_pretrained(model_cfg: Mapping, path: str = 'model') -> list[tuple[str, str]]:
    """``(key, backbone type)`` of every backbone in ``model_cfg`` whose ``pretrained`` (given, or the
    constructor's default) is None or False; backbones without a ``pretrained`` argument are not asked."""
    out = []
    for where, bb in _backbones(model_cfg, path):
        t = bb.get('type')
        cls = BACKBONES.get(t) if isinstance(t, str) else t
        if cls is None:
            continue
        try:
            params = inspect.signature(cls).parameters
        except (TypeError, ValueError):
            continue
        if 'pretrained' not in params:
            continue
        value = bb['pretrained'] if 'pretrained' in bb else params['pretrained'].default
        if value is None or value is False or value is inspect.Parameter.empty:
            out.append((f'{where}.pretrained', str(getattr(cls, '__name__', t))))
    return out


def require_pretrained(model_cfg: Mapping, stage: str = 'training', path: str = 'model',
                       hint: Optional[str] = None) -> None:
    """Raise :class:`PretrainedNotSetError` naming each backbone whose ``pretrained`` is unset (see the module
    docstring)."""
    unset = unset_pretrained(model_cfg, path)
    if not unset:
        return
    keys = ', '.join(f'{k} ({t})' for k, t in unset)
    first = unset[0][0]
    raise PretrainedNotSetError(
        f'{stage}: {keys} is not set, so the backbone would train from random weights. Set it to a local weight '
        f'file (--cfg-options {first}=/path/to/imagenet_weights.pth; the config\'s comments name the file'
        + (f'; {hint}' if hint else '') + f"), or to '{RANDOM_INIT}' to train from random weights on purpose "
        f'(--cfg-options {first}={RANDOM_INIT}).')
