import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from support_models import TinyClassifier
from wsss.datasets.voc import VOCDataset
from wsss.engine.sampler import IterBatchSampler
from wsss.engine.trainer import IterTrainer


def _cfg(max_iters=6):
    return Config(dict(
        train_cfg=dict(max_iters=max_iters, batch_size=2, num_workers=0, log_interval=1, ckpt_interval=100,
                       seed=3, device='cpu'),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                                                weight_decay=1e-4),
                           paramwise_cfg=dict(custom_keys={'fc8': dict(lr_mult=10.0)})),
        param_scheduler=[dict(type='PolyLR', power=0.9, eta_min=0.0)]))


def _train(tmp, data_root, name, stop_at=None, resume=False):
    torch.manual_seed(0)
    model = TinyClassifier()
    ds = VOCDataset(str(data_root), 'train', mode='cam', transforms=dict(crop_size=24, scale_range=(0.8, 1.2)))
    tr = IterTrainer(model, ds, _cfg(), tmp / name)
    tr.train(resume=resume, stop_at=stop_at)
    return tr


def test_resume_gives_the_same_weights(tmp_path, tiny_voc):
    full = _train(tmp_path, tiny_voc, 'full')
    _train(tmp_path, tiny_voc, 'split', stop_at=2)
    assert not (tmp_path / 'split' / 'final.pth').exists()
    resumed = _train(tmp_path, tiny_voc, 'split', resume=True)
    for (k, a), b in zip(full.model.state_dict().items(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    final = torch.load(tmp_path / 'split' / 'final.pth', weights_only=True)
    assert set(final) == {'state_dict', 'meta'}
    lines = [json.loads(x) for x in (tmp_path / 'full' / 'scalars.jsonl').read_text().splitlines()]
    assert [x['iter'] for x in lines] == list(range(1, 7)) and 'loss_cls' in lines[0]
    assert all(x['loss_mean'] == pytest.approx(x['loss']) for x in lines)  # logged every iteration: the same
    # poly schedule reached its end; head has 10x lr
    groups = full.optim_wrapper.optimizer.param_groups
    assert any(abs(g['initial_lr'] - 1.0) < 1e-9 for g in groups)


def test_sampler_is_a_function_of_iteration_and_splits_ranks():
    one = IterBatchSampler(10, 4, 8, seed=5)
    a = [one.batch(i) for i in range(8)]
    r0 = IterBatchSampler(10, 4, 8, seed=5, rank=0, world_size=2)
    r1 = IterBatchSampler(10, 4, 8, seed=5, rank=1, world_size=2)
    for i in range(8):
        assert r0.batch(i) + r1.batch(i) == a[i]
    assert list(IterBatchSampler(10, 4, 8, seed=5, start_iter=3)) == a[3:]
    # every epoch visits every sample once
    stream = [k for b in a for k, _ in b]
    assert sorted(stream[:10]) == list(range(10)) and sorted(stream[10:20]) == list(range(10))


def test_fit_schedulers_to_max_iters():
    from wsss.engine.trainer import fit_schedulers
    warm = dict(type='LinearLR', start_factor=0.1, begin=0, end=25)
    poly = dict(type='PolyLR', power=0.9, begin=25)
    assert fit_schedulers([warm, poly], 500) == [dict(warm, by_epoch=False), dict(poly, end=500, by_epoch=False)]
    # a smoke run shorter than the warm-up: the warm-up is cut at max_iters, the poly part never starts
    assert fit_schedulers([warm, poly], 4) == [dict(warm, end=4, by_epoch=False)]
    assert fit_schedulers([dict(type='PolyLR', end=900)], 100)[0]['end'] == 100


CONFIGS = sorted((Path(__file__).resolve().parents[1] / 'configs').glob('*/*.py'))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: f'{p.parent.name}/{p.name}')
def test_the_models_lr_multipliers_reach_the_optimizer(path):
    """A model base's paramwise_cfg is applied by the trainer whatever the leaf does (no {{_base_}} copy)."""
    from wsss.engine.config import load_config
    from wsss.engine.trainer import optim_wrapper_cfg
    cfg = load_config(path)
    if 'optim_wrapper' not in cfg:
        return
    wrapper = optim_wrapper_cfg(cfg)
    assert wrapper['type'] and wrapper['optimizer']['lr'] > 0
    if cfg.get('paramwise_cfg') is not None:
        assert wrapper['paramwise_cfg'] == cfg.paramwise_cfg.to_dict()


def test_lr_multipliers_given_twice_are_refused():
    from wsss.engine.trainer import optim_wrapper_cfg
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1),
                                         paramwise_cfg=dict(custom_keys={'a': dict(lr_mult=2.0)})),
                      paramwise_cfg=dict(custom_keys={'fc8': dict(lr_mult=10.0)})))
    with pytest.raises(ValueError, match='set twice'):
        optim_wrapper_cfg(cfg)


def test_resume_under_other_training_keys_is_refused(tmp_path, tiny_voc):
    """A finished run resumed under another lr is refused (its config.py kept); speed keys may change; without
    resume the stage starts afresh."""
    from wsss.engine.trainer import trainer_in
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam', transforms=dict(crop_size=24, scale_range=(0.8, 1.2)))
    cfg = _cfg(max_iters=2)
    trainer_in(tmp_path / 'run', TinyClassifier(), ds, cfg, meta={}, resume=True).train(resume=True)
    saved = (tmp_path / 'run' / 'config.py').read_text()
    other = Config(cfg.to_dict())
    other.optim_wrapper.optimizer.lr = 0.05
    with pytest.raises(ValueError, match=r'(?s)trained under another config.*optim_wrapper.*Delete'):
        trainer_in(tmp_path / 'run', TinyClassifier(), ds, other, meta={}, resume=True)
    assert (tmp_path / 'run' / 'config.py').read_text() == saved
    faster = Config(cfg.to_dict())
    faster.train_cfg.update(num_workers=1, log_interval=5, channels_last=True)
    trainer_in(tmp_path / 'run', TinyClassifier(), ds, faster, meta={}, resume=True)
    trainer_in(tmp_path / 'run', TinyClassifier(), ds, other, meta={}, resume=False)


def test_a_shipped_config_read_back_from_its_dump_is_the_same_run(tmp_path):
    """config.py as the stages dump it compares equal to the config it came from (tuples, nested dicts)."""
    from wsss.engine.config import dump_config, load_config
    from wsss.engine.resume_check import changed_keys, check_same_run
    cfg = load_config(Path(__file__).resolve().parents[1] / 'configs/cam/eps_seenet_lite0_synthetic.py')
    dump_config(cfg, tmp_path)
    (tmp_path / 'final.pth').write_bytes(b'')
    check_same_run(cfg, tmp_path)
    cfg.model.backbone.frozen_stages = 2
    cfg.train_cfg.max_iters = 100
    assert changed_keys(Config.fromfile(str(tmp_path / 'config.py')), cfg) == ['model', 'train_cfg.max_iters']


def test_frozen_parameters_get_one_log_line_not_one_warning_each(tmp_path, tiny_voc):
    torch.manual_seed(0)
    model = TinyClassifier()
    frozen = [p for p in model.parameters()][:2]
    for p in frozen:
        p.requires_grad_(False)
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam', transforms=dict(crop_size=24))
    tr = IterTrainer(model, ds, _cfg(max_iters=1), tmp_path / 'run')
    optimised = {id(p) for g in tr.optim_wrapper.optimizer.param_groups for p in g['params']}
    assert optimised == {id(p) for p in model.parameters() if p.requires_grad}
    log = (tmp_path / 'run' / 'train.log').read_text()
    assert 'is skipped since its requires_grad' not in log
    assert '2 frozen parameters (requires_grad=False) are left out of the optimiser' in log
