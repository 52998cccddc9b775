"""Trained models from checkpoints: build from the config, load our ``final.pth`` or an official raw
state_dict (``weights_only`` / safetensors, ``module.`` prefixes dropped), strictly."""
from __future__ import annotations

import os

import torch
from mmengine.registry import Registry

from wsss.utils.checkpoint import extract_state_dict, load_checkpoint_file, load_state_dict_checked, strip_prefix


def load_trained(registry: Registry, model_cfg: dict, checkpoint: str | os.PathLike,
                 device: torch.device | str = 'cpu', channels_last: bool = False) -> torch.nn.Module:
    """``registry.build(model_cfg)`` with ``checkpoint``'s weights (strict: every key and shape must fit; the
    error names the file and the keys), moved to ``device`` (NHWC with ``channels_last``) in eval mode."""
    model = registry.build(model_cfg)
    state = strip_prefix(extract_state_dict(load_checkpoint_file(checkpoint), checkpoint))
    load_state_dict_checked(model, state, checkpoint, strict=True)
    model = model.to(device)
    return (model.to(memory_format=torch.channels_last) if channels_last else model).eval()
