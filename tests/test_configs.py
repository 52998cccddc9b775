"""Every shipped config parses and builds its model (mmseg tests/test_config.py style)."""
from pathlib import Path

import pytest

from wsss.engine.config import load_config
from wsss.registry import CAM_MODELS, SALIENCY_MODELS, SEGMENTERS

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = {'cam': CAM_MODELS, 'seg': SEGMENTERS, 'saliency': SALIENCY_MODELS}
CONFIGS = sorted(p for kind in REGISTRY for p in (ROOT / 'configs' / kind).glob('*.py'))


def test_there_are_configs():
    names = {p.name for p in CONFIGS}
    for m in ('cam', 'eps', 'seenet', 'eps_seenet'):
        assert f'{m}_lite0_synthetic.py' in names and f'{m}_resnet38_voc.py' in names
    for s in ('deeplabv2', 'sanet'):
        assert f'{s}_lite0_synthetic.py' in names and f'{s}_r101_voc.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: f'{p.parent.name}/{p.name}')
def test_config_builds(path):
    cfg = load_config(str(path))
    assert 'data_root' in cfg
    model = REGISTRY[path.parent.name].build(cfg.model)
    assert hasattr(model, 'loss')
    if path.parent.name != 'saliency':
        assert 'train_dataset' in cfg and 'train_cfg' in cfg and 'optim_wrapper' in cfg
