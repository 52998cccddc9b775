"""Safe checkpoint loading: ``weights_only=True`` or safetensors, with clear errors."""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Mapping

import torch

from wsss.utils.io import atomic_write_bytes


def load_checkpoint_file(path: str | os.PathLike, map_location: str | torch.device = 'cpu') -> Any:
    """Load a ``.pth``/``.pt`` (``weights_only=True``) or ``.safetensors`` file; say which file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if path.suffix == '.safetensors':
        from safetensors.torch import load_file
        try:
            return load_file(str(path), device=str(map_location))
        except Exception as e:  # noqa: BLE001 - re-raised with the file name
            raise RuntimeError(f'{path}: not a readable safetensors file ({e})') from e
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


def save_checkpoint_atomic(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file and rename into place."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())
