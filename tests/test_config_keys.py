"""Unknown config keys are an error naming the key and its closest valid spelling (wsss.engine.config_keys), in
config files and in --cfg-options, for every tool (engine.cli.parse_config) and driver (drivers.workdirs)."""
import re
from pathlib import Path

import pytest

from tools_cli import load_tool
from wsss.engine.config import load_config
from wsss.engine.config_keys import ConfigKeyError, accepted_args, top_level_schema

ROOT = Path(__file__).resolve().parents[1]
ALL_CONFIGS = sorted((ROOT / 'configs').rglob('*.py'))
EPS_SEENET = str(ROOT / 'configs/cam/eps_seenet_lite0_synthetic.py')


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=lambda p: p.relative_to(ROOT / 'configs').as_posix())
def test_every_shipped_config_passes_the_key_check(path):
    load_config(path)  # raises ConfigKeyError on a key nothing reads


TYPOS = [  # (--cfg-options entry, the suggestion the error must make)
    ('train_cfg.max_iterz=2', 'did you mean train_cfg.max_iters?'),                           # a section we own
    ('data_rot=/data/VOC2012', 'did you mean data_root?'),                                    # top level
    ('model.backbone.frozen_stagez=1', 'did you mean model.backbone.frozen_stages?'),         # backbone kwargs
    ('model.head.delta_hh=0.5', 'did you mean model.head.delta_h?'),       # head kwargs via **kwargs up the MRO
    ('model.head.sal_loss.tauu=0.3', 'did you mean model.head.sal_loss.tau?'),                # a loss (default)
    ('model.backbone.type=EfficientNetLit0', "did you mean 'EfficientNetLite0'?"),            # registered types
    ('pseudo.crf.iteration=3', 'did you mean pseudo.crf.iterations?'),                        # DEFAULT_PSEUDO
    ('train_dataset.transforms.crop_sz=64', 'did you mean train_dataset.transforms.crop_size?'),
    ('optim_wrapper.optimizer.weight_decy=0.1', 'did you mean optim_wrapper.optimizer.weight_decay?'),  # AdamW
    ('paramwise_cfg.custom_keys.fc8.lr_mul=2', 'did you mean paramwise_cfg.custom_keys.fc8.lr_mult?'),
    ('param_scheduler.0.powr=1.0', 'did you mean param_scheduler.0.power?'),                   # mmengine PolyLR
    ('saliency_source.saliency_dirr=saliency/poor', 'did you mean saliency_source.saliency_dir?'),
]


@pytest.mark.parametrize('option,suggestion', TYPOS, ids=[t[0].split('=')[0] for t in TYPOS])
def test_cfg_options_typos_are_refused_with_the_suggestion(option, suggestion, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        load_tool('train_cam').main([EPS_SEENET, '--work-dir', str(tmp_path / 'w'), '--cfg-options', option])
    assert e.value.code == 2
    err = capsys.readouterr().err
    key = option.split('=')[0]
    assert f'{key} (from --cfg-options)' in err and suggestion in err, err
    assert not (tmp_path / 'w').exists()


def test_every_typo_is_listed_at_once():
    with pytest.raises(ConfigKeyError) as e:
        load_config(EPS_SEENET, {'train_cfg.max_iterz': 2, 'model.backbone.frozen_stagez': 1, 'data_rot': 'x'})
    assert [p.path for p in e.value.problems] == ['data_rot', 'model.backbone.frozen_stagez', 'train_cfg.max_iterz']


def test_typos_in_config_files_are_refused(tmp_path):
    leaf = tmp_path / 'leaf.py'
    leaf.write_text(f"_base_ = ['{EPS_SEENET}']\ntrain_cfg = dict(max_iterz=3)\n"
                    'model = dict(head=dict(delta_hh=0.6))\n')
    with pytest.raises(ConfigKeyError) as e:
        load_config(leaf)
    msg = str(e.value)
    assert 'train_cfg.max_iterz: did you mean train_cfg.max_iters?' in msg
    assert 'model.head.delta_hh: not an argument of EPSSeeNetHead; did you mean model.head.delta_h?' in msg
    assert 'from --cfg-options' not in msg


def test_legitimate_additions_are_accepted(tmp_path):
    load_config(EPS_SEENET, {'optim_wrapper.type': 'AmpOptimWrapper', 'optim_wrapper.dtype': 'bfloat16',
                             'model.backbone.pretrained': str(tmp_path / 'w.pth'),
                             'paramwise_cfg.custom_keys.backbone.lr_mult': 0.1,
                             'paramwise_cfg.custom_keys.fc8.weight_decay': 0.0,  # an SGD parameter-group option
                             'optim_wrapper.clip_grad': dict(max_norm=5.0, norm_type=2),
                             'model.head.detach_branches': False, 'model.head.flip_fusion': 'sum',
                             'train_dataset.labels_file': 'cls_labels.json', 'check_data': False,
                             'train_cfg.channels_last': True})
    with pytest.raises(ConfigKeyError, match=r'optim_wrapper\.dtype .*not an argument of OptimWrapper'):
        load_config(EPS_SEENET, {'optim_wrapper.dtype': 'bfloat16'})  # dtype needs AmpOptimWrapper


def test_helper_keys_start_with_an_underscore(tmp_path):
    cfg = tmp_path / 'helpers.py'
    cfg.write_text(f"_base_ = ['{EPS_SEENET}']\n_my_helper = dict(anything=1)\n")
    load_config(cfg)
    cfg.write_text(f"_base_ = ['{EPS_SEENET}']\nmy_helper = dict(anything=1)\n")
    with pytest.raises(ConfigKeyError, match=re.escape("named with a leading '_': _my_helper")):
        load_config(cfg)


def test_drivers_refuse_typos(tmp_path):
    from wsss.drivers.workdirs import repo_config
    with pytest.raises(ConfigKeyError, match='did you mean train_cfg.max_iters'):
        repo_config(ROOT, 'configs/cam/cam_lite0_synthetic.py', tmp_path, **{'train_cfg.max_iterz': 2})


def test_kwargs_are_followed_up_the_mro_and_sinks_stay_open():
    import support_models
    from wsss.models.cam.eps_seenet_head import EPSSeeNetHead
    from wsss.saliency.sources import FolderSaliency, NoSaliency
    names, is_open = accepted_args(EPSSeeNetHead)  # its **kwargs go to SeeNetHead -> EPSHead -> CAMHead
    assert not is_open and {'detach_branches', 'delta_h', 'num_convs', 'sal_loss', 'cls_loss', 'flip_fusion'} <= names
    assert accepted_args(FolderSaliency) == (frozenset({'data_root', 'saliency_dir'}), False)
    assert accepted_args(NoSaliency)[1] and accepted_args(support_models.TinyBackbone)[1]  # keep **kwargs: open


def test_owned_sections_match_the_code_that_reads_them():
    """train_cfg: exactly the keys IterTrainer and the stages read; pseudo: DEFAULT_PSEUDO; one owner per key."""
    from wsss.engine.trainer import TRAIN_CFG_KEYS
    from wsss.stages.pseudo.make import DEFAULT_PSEUDO
    read = set()
    for path in [ROOT / 'wsss/engine/trainer.py', *sorted((ROOT / 'wsss/stages').rglob('*.py'))]:
        read |= set(re.findall(r"(?:tcfg|train_cfg)(?:\.get\(|\[)'(\w+)'", path.read_text()))
    assert read == set(TRAIN_CFG_KEYS)
    schema = top_level_schema(load_config(EPS_SEENET))
    assert schema['pseudo'].keys == set(DEFAULT_PSEUDO)
    assert {'data_root', 'saliency_dir', 'label_dir', 'model', 'train_dataset', 'infer_dataset', 'train_cfg',
            'optim_wrapper', 'param_scheduler', 'paramwise_cfg', 'pseudo', 'evaluation', 'inference', 'eval_split',
            'saliency_source', 'label_metrics', 'check_data'} <= set(schema)
