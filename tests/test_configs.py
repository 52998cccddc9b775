"""Every shipped config parses and builds its model (mmseg tests/test_config.py style)."""
from pathlib import Path

import pytest

from wsss.engine.config import load_config
from wsss.registry import CAM_MODELS, SALIENCY_MODELS, SEGMENTERS

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = {'cam': CAM_MODELS, 'seg': SEGMENTERS, 'saliency': SALIENCY_MODELS}
CONFIGS = sorted(p for kind in REGISTRY for p in (ROOT / 'configs' / kind).rglob('*.py'))  # candidate recipes too


def kind_of(path: Path) -> str:
    return path.relative_to(ROOT / 'configs').parts[0]


def test_there_are_configs():
    names = {p.name for p in CONFIGS if p.parent.name == kind_of(p)}
    for m in ('cam', 'eps', 'seenet', 'eps_seenet'):
        assert f'{m}_lite0_synthetic.py' in names and f'{m}_resnet38_voc.py' in names
    for s in ('deeplabv2', 'sanet'):
        assert f'{s}_lite0_synthetic.py' in names and f'{s}_r101_voc.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(ROOT / 'configs')))
def test_config_builds(path):
    cfg = load_config(str(path))
    assert 'data_root' in cfg
    model = REGISTRY[kind_of(path)].build(cfg.model)
    assert hasattr(model, 'loss')
    if kind_of(path) != 'saliency':
        assert 'train_dataset' in cfg and 'train_cfg' in cfg and 'optim_wrapper' in cfg


CAM_METHODS = {'cam': 'cam_plain', 'eps': 'cam_eps', 'seenet': 'cam_seenet', 'eps_seenet': 'cam_eps_seenet'}


@pytest.mark.parametrize('method', list(CAM_METHODS))
def test_cam_leaves_inherit_the_method_from_its_model_base(method):
    """Both leaves of a CAM method take the head (the method) from configs/_base_/models/cam_<method>.py and
    the lr multipliers from the model base; leaves never mention paramwise."""
    base = load_config(str(ROOT / 'configs/_base_/models' / f'{CAM_METHODS[method]}.py'))
    for leaf in (f'{method}_lite0_synthetic.py', f'{method}_resnet38_voc.py'):
        path = ROOT / 'configs' / 'cam' / leaf
        assert f"'../_base_/models/{CAM_METHODS[method]}.py'" in path.read_text()
        assert 'paramwise' not in path.read_text()
        cfg = load_config(str(path))
        assert cfg.model.head.type == base.model.head.type
        assert cfg.paramwise_cfg == base.paramwise_cfg == dict(custom_keys={'fc8': dict(lr_mult=10.0)})
        # the SeeNet family labels with SeeNet's proxy rule (defined once, in cam_seenet.py)
        assert (cfg.pseudo.rule.type == 'SaliencyProxyRule') == ('seenet' in method)
        assert cfg.pseudo.use_saliency == ('seenet' in method)
    lite0 = load_config(str(ROOT / 'configs/cam' / f'{method}_lite0_synthetic.py'))
    assert lite0.model.backbone.type == 'EfficientNetLite0' and lite0.model.dropout == 0.0
