"""Which files each stage reads of a VOC-format data set, for a given config: the checks of
``tools/check_data.py`` (each stage runs its own part when it starts; :mod:`wsss.datasets.checks`).

Stages: ``cam`` (CAM training: images, image-level labels, saliency maps for a model with a saliency loss),
``pseudo`` (pseudo-labels: images of ``pseudo.split``, image-level labels, saliency maps for a rule with
``use_saliency``, ground truth when complete), ``seg`` (segmenter training: images, image-level labels, the
training labels of ``label_dir``, then the evaluation split's images and ground truth).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Optional, Sequence

from wsss.datasets.checks import DataReport, SplitInputs, check_inputs
from wsss.datasets.voc import resolve_dir
from wsss.models.pretrained import RANDOM_INIT
from wsss.registry import CAM_MODELS, SEGMENTERS
from wsss.stages.cam import train as cam_train
from wsss.stages.pseudo import make as pseudo_make
from wsss.stages.seg import train as seg_train

STAGES = ('cam', 'pseudo', 'seg')


def config_stages(cfg) -> tuple[str, ...]:
    """The stages a config drives: a CAM model -> ``cam``, ``pseudo``; a segmenter -> ``seg``; else none."""
    t = cfg.get('model', {}).get('type')
    if isinstance(t, str) and CAM_MODELS.get(t) is not None:
        return 'cam', 'pseudo'
    if isinstance(t, str) and SEGMENTERS.get(t) is not None:
        return ('seg',)
    return ()


def _needs_saliency(cfg) -> bool:
    """Whether the CAM model trains with saliency (built without loading weight files)."""
    model_cfg = copy.deepcopy(cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model))
    stack = [model_cfg]
    while stack:
        d = stack.pop()
        for k, v in d.items():
            if isinstance(v, dict):
                if k == 'backbone' and 'pretrained' in v:
                    v['pretrained'] = RANDOM_INIT
                stack.append(v)
    return bool(CAM_MODELS.build(model_cfg).needs_saliency)


def stage_inputs(cfg, stage: str, notes: Optional[list] = None) -> list[Optional[SplitInputs]]:
    """The :class:`SplitInputs` ``stage`` reads with ``cfg`` (notes about what is not checked go to ``notes``)."""
    notes = notes if notes is not None else []
    if stage == 'cam':
        return cam_train.data_inputs(cfg, _needs_saliency(cfg))
    if stage == 'pseudo':
        return pseudo_make.data_inputs(cfg, pseudo_make.pseudo_settings(cfg))
    if stage == 'seg':
        label_dir = Path(resolve_dir(cfg.data_root, cfg.label_dir)) if cfg.get('label_dir') else None
        if label_dir is None:
            notes.append('label_dir is not set (--cfg-options label_dir=...): the training labels are not checked')
        return seg_train.data_inputs(cfg, label_dir)
    raise ValueError(f'unknown stage {stage!r} (one of {", ".join(STAGES)})')


def check_stages(cfg, stages: Sequence[str] | str = 'all', max_workers: Optional[int] = None) -> DataReport:
    """Check the files of ``stages`` (``'all'``: the config's stages, :func:`config_stages`) in one report."""
    if stages == 'all':
        stages = config_stages(cfg)
        if not stages:
            raise ValueError(f'{getattr(cfg, "filename", "this config")} drives no stage that reads a VOC-format '
                             f'data set (model {cfg.get("model", {}).get("type")}); give --stage')
    elif isinstance(stages, str):
        stages = (stages,)
    notes: list[str] = []
    inputs = [i for s in stages for i in stage_inputs(cfg, s, notes)]
    src = getattr(cfg, 'filename', None)
    report = check_inputs(inputs, title='+'.join(stages) + (f' ({src})' if src else ''), workers=max_workers)
    report.notes += notes
    return report
