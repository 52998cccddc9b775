"""Safe checkpoint loading: ``weights_only=True`` or safetensors, with clear errors.

``.safetensors`` files hold tensors only; one written by :func:`save_checkpoint_file` with a ``meta`` keeps it as
JSON under the header metadata key :data:`SAFETENSORS_META_KEY`, and :func:`load_checkpoint_file` returns such a
file as ``{'state_dict': tensors, 'meta': meta}`` (the layout of our ``.pth`` checkpoints). Other safetensors files
load as a plain dict of tensors.

An MXNet NDArray file (``*.params``, ``mx.nd.save``) is refused with the command that converts it
(``tools/convert_weights.py``); it is recognised by its first 8 bytes, ``kMXAPINDArrayListMagic`` = 0x112 as a
little-endian uint64 (apache/mxnet ``src/ndarray/ndarray.cc``, ``NDArray::Save``).
"""
from __future__ import annotations

import io
import json
import os
import shlex
from pathlib import Path
from typing import Any, Mapping, Optional

import torch

from wsss.utils.io import atomic_write_bytes

#: first 8 bytes of an MXNet NDArray list file: kMXAPINDArrayListMagic (uint64, little-endian)
MXNET_NDARRAY_LIST_MAGIC = 0x112
#: safetensors header metadata key holding our checkpoint ``meta`` as JSON
SAFETENSORS_META_KEY = 'wsss_meta'


def is_mxnet_ndarray_file(path: str | os.PathLike) -> bool:
    """True when the file starts with MXNet's NDArray list magic (module docstring)."""
    with open(path, 'rb') as f:
        return f.read(8) == MXNET_NDARRAY_LIST_MAGIC.to_bytes(8, 'little')


def mxnet_convert_command(path: str | os.PathLike) -> str:
    """The command that turns an MXNet ResNet-38 ``.params`` file into a ``.pth`` our loaders read."""
    path = Path(path)
    return (f'python tools/convert_weights.py --format resnet38-mxnet {shlex.quote(str(path))} '
            f'{shlex.quote(str(path.with_suffix(".pth")))}')


def load_checkpoint_file(path: str | os.PathLike, map_location: str | torch.device = 'cpu') -> Any:
    """Load a ``.pth``/``.pt`` (``weights_only=True``) or ``.safetensors`` file; say which file and what is wrong.

    A safetensors file carrying our ``meta`` comes back as ``{'state_dict', 'meta'}`` (module docstring); an
    MXNet ``.params`` file raises an error that gives the convert command."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if is_mxnet_ndarray_file(path):
        raise RuntimeError(f'{path} is an MXNet NDArray file (mx.nd.save / *.params), not a PyTorch checkpoint. '
                           f'Convert it once and pass the .pth instead:\n  {mxnet_convert_command(path)}')
    if path.suffix == '.safetensors':
        from safetensors import safe_open
        try:
            with safe_open(str(path), framework='pt', device=str(map_location)) as f:
                header = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in f.keys()}
            meta = json.loads(header[SAFETENSORS_META_KEY]) if SAFETENSORS_META_KEY in header else None
        except Exception as e:  # noqa: BLE001 - re-raised with the file name
            raise RuntimeError(f'{path}: not a readable safetensors file ({e})') from e
        return tensors if meta is None else {'state_dict': tensors, 'meta': meta}
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001
        size = path.stat().st_size
        raise RuntimeError(f'{path}: cannot load checkpoint ({size} bytes; truncated, corrupt, or holds '
                           f'objects that weights_only=True refuses): {type(e).__name__}: {e}') from e


def extract_state_dict(obj: Any, path: str | os.PathLike = '<checkpoint>',
                       keys: tuple[str, ...] = ('state_dict', 'model', 'net', 'model_state')) -> dict:
    """Find the state_dict inside a loaded checkpoint (raw state_dict or wrapped under a common key)."""
    if isinstance(obj, Mapping):
        for k in keys:
            if k in obj and isinstance(obj[k], Mapping):
                return dict(obj[k])
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return dict(obj)
    raise ValueError(f'{path}: no state_dict found (looked for a raw dict of tensors or keys {keys})')


def strip_prefix(state_dict: Mapping[str, torch.Tensor], prefix: str = 'module.') -> dict:
    """Drop a DataParallel/DDP prefix when every key carries it."""
    if state_dict and all(k.startswith(prefix) for k in state_dict):
        return {k[len(prefix):]: v for k, v in state_dict.items()}
    return dict(state_dict)


def load_state_dict_checked(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor],
                            path: str | os.PathLike = '<checkpoint>', strict: bool = True) -> None:
    """``load_state_dict`` whose error names the file and lists missing / unexpected / mis-shaped keys."""
    own = module.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shape = [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
             for k, v in state_dict.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if shape or (strict and (missing or unexpected)):
        def head(xs):
            return ', '.join(xs[:8]) + (f' ... (+{len(xs) - 8} more)' if len(xs) > 8 else '')
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing keys [{head(missing)}]')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected keys [{head(unexpected)}]')
        if shape:
            parts.append(f'{len(shape)} shape mismatches [{head(shape)}]')
        raise RuntimeError(f'{path} does not fit {type(module).__name__}: ' + '; '.join(parts))
    module.load_state_dict(state_dict, strict=strict)


def checkpoint_meta(obj: Any) -> dict:
    """The ``meta`` dict of a loaded ``{'state_dict', 'meta'}`` checkpoint; ``{}`` for anything else."""
    if isinstance(obj, Mapping) and 'state_dict' in obj and isinstance(obj.get('meta'), Mapping):
        return dict(obj['meta'])
    return {}


def save_checkpoint_atomic(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file and rename into place."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def save_checkpoint_file(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike,
                         meta: Optional[Mapping[str, Any]] = None) -> None:
    """Write a state_dict atomically, the format chosen by the suffix: ``.safetensors`` (tensors made contiguous;
    ``meta`` as JSON in the header, see the module docstring), anything else ``torch.save`` of
    ``{'state_dict', 'meta'}`` (or of the raw state_dict when ``meta`` is None). Both load back through
    :func:`load_checkpoint_file` + :func:`extract_state_dict` / :func:`checkpoint_meta`."""
    if Path(path).suffix == '.safetensors':
        from safetensors.torch import save as st_save
        header = None if meta is None else {SAFETENSORS_META_KEY: json.dumps(dict(meta), sort_keys=True)}
        atomic_write_bytes(path, st_save({k: v.contiguous() for k, v in state_dict.items()}, metadata=header))
    else:
        save_checkpoint_atomic(dict(state_dict) if meta is None else
                               {'state_dict': dict(state_dict), 'meta': dict(meta)}, path)
