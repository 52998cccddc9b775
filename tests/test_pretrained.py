"""Training refuses a backbone whose ``pretrained`` is unset (it would start from random weights without a word),
unless the config says ``pretrained='none'`` on purpose (wsss.models.pretrained)."""
from pathlib import Path

import pytest
import torch

from tools_cli import load_tool
from wsss.engine.config import load_config
from wsss.models.pretrained import RANDOM_INIT, PretrainedNotSetError, require_pretrained, unset_pretrained
from wsss.registry import BACKBONES

ROOT = Path(__file__).resolve().parents[1]
TRAIN_CONFIGS = sorted(p for kind in ('cam', 'seg', 'saliency') for p in (ROOT / 'configs' / kind).glob('*.py'))
#: the configs that need a weight file (ImageNet) before they train; the synthetic ones use packaged weights
#: (Lite0, pretrained=True) or train from scratch on purpose (the synthetic InSPyReNet, pretrained='none')
NEEDS_WEIGHTS = {p for p in TRAIN_CONFIGS if p.stem.endswith(('_voc', '_duts'))}


@pytest.mark.parametrize('path', TRAIN_CONFIGS, ids=lambda p: f'{p.parent.name}/{p.name}')
def test_which_shipped_configs_need_weights(path):
    cfg = load_config(path)
    assert bool(unset_pretrained(cfg.model)) == (path in NEEDS_WEIGHTS)
    if path in NEEDS_WEIGHTS:
        with pytest.raises(PretrainedNotSetError, match=r"model\.backbone\.pretrained .*'none'"):
            require_pretrained(cfg.model)
        cfg.merge_from_dict({'model.backbone.pretrained': RANDOM_INIT})  # the explicit opt-out
    require_pretrained(cfg.model)


@pytest.mark.parametrize('tool,config', [('train_cam', 'configs/cam/eps_resnet38_voc.py'),
                                         ('train_seg', 'configs/seg/deeplabv2_r101_voc.py'),
                                         ('train_saliency', 'configs/saliency/inspyrenet_res2net50_duts.py')])
def test_training_tools_refuse_unset_weights_before_anything(tool, config, tmp_path, tiny_voc):
    work = tmp_path / 'work'
    with pytest.raises(PretrainedNotSetError) as e:
        load_tool(tool).main([str(ROOT / config), '--work-dir', str(work), '--cfg-options', f'data_root={tiny_voc}',
                              'label_dir=SegmentationClass'])
    msg = str(e.value)
    assert 'model.backbone.pretrained' in msg and f'model.backbone.pretrained={RANDOM_INIT}' in msg
    assert not work.exists()


def test_none_on_the_command_line_is_the_string():
    from wsss.engine.cli import parse_config, training_parser  # what every tool parses with
    _, cfg = parse_config(training_parser(None), [str(ROOT / 'configs/seg/deeplabv2_r101_voc.py'), '--cfg-options',
                                                  'model.backbone.pretrained=none'])
    assert cfg.model.backbone.pretrained == 'none'
    require_pretrained(cfg.model)


SMALL = [dict(type='TorchvisionResNet', depth=50), dict(type='EfficientNetLite0'),
         dict(type='Res2NetV1b', layers=(1, 1, 1, 1), base_channels=16),
         dict(type='SwinTransformerV1', embed_dim=32, depths=(1, 1, 1, 1), num_heads=(1, 2, 4, 8), window_size=4)]


@pytest.mark.parametrize('cfg', SMALL, ids=lambda c: c['type'])
def test_backbones_accept_none_as_random_init(cfg):
    """'none' builds exactly the random initialisation None builds (the synthetic InSPyReNet config is unchanged)."""
    torch.manual_seed(0)
    a = BACKBONES.build(dict(cfg, pretrained=RANDOM_INIT)).state_dict()
    torch.manual_seed(0)
    b = BACKBONES.build(dict(cfg, pretrained=None)).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resnet38_accepts_none(monkeypatch):
    from wsss.models.backbones.resnet38 import ResNet38

    def refuse(self, path):
        raise AssertionError(f'tried to load {path!r}')
    monkeypatch.setattr(ResNet38, 'load_pretrained', refuse)
    ResNet38(pretrained=RANDOM_INIT)
