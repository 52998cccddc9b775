"""DUTS-layout data set and the saliency training / evaluation tools (tiny InSPyReNet, a few iterations)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tools_cli import load_tool
from wsss.datasets.duts import DUTSDataset
from wsss.engine.records import read_record

pytestmark = pytest.mark.usefixtures('one_thread')   # conftest.py

ROOT = Path(__file__).resolve().parents[1]


def write_duts(root: Path, n: int = 6, size=(48, 64), seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    (root / 'Image').mkdir(parents=True, exist_ok=True)
    (root / 'GT').mkdir(parents=True, exist_ok=True)
    names = []
    h, w = size
    for i in range(n):
        gt = np.zeros((h, w), np.uint8)
        y0, x0 = int(rng.integers(0, h // 2)), int(rng.integers(0, w // 2))
        gt[y0:y0 + h // 2, x0:x0 + w // 2] = 255
        img = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
        img[gt > 0] = (200, 180, 40)
        name = f'sod_{i:04d}'
        Image.fromarray(img).save(root / 'Image' / f'{name}.jpg', quality=95)
        Image.fromarray(gt).save(root / 'GT' / f'{name}.png')
        names.append(name)
    (root / 'train.txt').write_text('\n'.join(names[:4]) + '\n')
    (root / 'test.txt').write_text('\n'.join(names[4:]) + '\n')
    return names


def test_duts_dataset_deterministic_augmentation(tmp_path):
    names = write_duts(tmp_path / 'sod')
    ds = DUTSDataset(str(tmp_path / 'sod'), split='train', base_size=(32, 40))
    assert len(ds) == 4 and ds.names == names[:4]
    a, b, c = ds[(1, 7)], ds[(1, 7)], ds[(1, 8)]
    assert a['img'].shape == (3, 32, 40) and a['gt'].shape == (1, 32, 40) and a['img'].dtype == torch.float32
    assert torch.equal(a['img'], b['img']) and torch.equal(a['gt'], b['gt'])
    assert not (torch.equal(a['img'], c['img']) and torch.equal(a['gt'], c['gt']))
    assert 0 <= float(a['gt'].min()) and float(a['gt'].max()) <= 1
    assert a['meta'] == {'id': names[1], 'ori_size': (48, 64)}
    plain = DUTSDataset(str(tmp_path / 'sod'), base_size=(48, 64), augment=False)[(0, 0)]
    gt = np.asarray(Image.open(tmp_path / 'sod' / 'GT' / f'{names[0]}.png')) / 255.0
    np.testing.assert_array_equal(plain['gt'][0].numpy(), gt.astype(np.float32))
    with pytest.raises(FileNotFoundError, match='DUTS layout'):
        DUTSDataset(str(tmp_path))


def test_train_then_make_and_eval_saliency(tmp_path):
    eval_saliency, make_saliency, train_saliency = map(load_tool, ('eval_saliency', 'make_saliency',
                                                                   'train_saliency'))
    root = tmp_path / 'sod'
    names = write_duts(root)
    tiny = ['model.depth=8', 'model.base_size=[64,64]', 'model.backbone.layers=[1,1,1,1]',
            'model.backbone.base_channels=8', f'data_root={root}', 'train_cfg.max_iters=3',
            'train_cfg.batch_size=2', 'train_cfg.num_workers=0', 'train_cfg.log_interval=1',
            'train_cfg.ckpt_interval=2']
    cfg = str(ROOT / 'configs/saliency/inspyrenet_res2net50_synthetic.py')
    work = tmp_path / 'work'
    out = train_saliency.main([cfg, '--work-dir', str(work), '--cfg-options'] + tiny)
    rec = read_record(work)
    assert rec.stage == 'train_saliency' and rec.sections == out
    assert rec.inputs['model']['base_size'] == [64, 64] and rec.inputs['model']['model'] == 'InSPyReNet'
    assert all(np.isfinite(v) for k, v in out['train'].items() if k.startswith('loss'))
    assert out['eval_test']['num_images'] == 2 and 0 <= out['eval_test']['mae'] <= 1
    final = torch.load(work / 'final.pth', weights_only=True)
    assert set(final) == {'state_dict', 'meta'} and final['meta']['base_size'] == [64, 64]
    # our checkpoint through the inference tool (DUTS layout: Image/) and the evaluation tool
    stats = make_saliency.main([cfg, '--checkpoint', str(work / 'final.pth'), '--data-root', str(root),
                                '--split', str(root / 'test.txt'), '--out-name', 'tiny', '--device', 'cpu',
                                '--num-workers', '0', '--no-progress', '--cfg-options'] + tiny[:4])
    assert stats['written'] == 2
    res = eval_saliency.main(['--data-root', str(root), '--pred-name', 'tiny', '--split', 'test'])
    assert set(res) >= {'mae', 'maxFm', 'Sm', 'meanEm'} and res['num_images'] == 2
    assert read_record(root / 'saliency' / 'tiny').section('sod')['mae'] == res['mae']
    assert read_record(root / 'saliency' / 'tiny' / '_make_saliency_rank0.json').section('run')['written'] == 2
    # perfect predictions score perfectly
    perfect = tmp_path / 'perfect'
    perfect.mkdir()
    for n in names[4:]:
        Image.open(root / 'GT' / f'{n}.png').save(perfect / f'{n}.png')
    res = eval_saliency.main(['--data-root', str(root), '--pred-dir', str(perfect), '--split', 'test',
                              '--out', str(tmp_path / 'm.json')])
    assert res['mae'] == 0 and res['maxFm'] == pytest.approx(1, abs=1e-6) and res['Sm'] == pytest.approx(1, abs=1e-6)


def test_centre_blob_baseline():
    from wsss.saliency.baselines import centre_blob
    b = centre_blob(9, 13)
    assert b.shape == (9, 13) and b.dtype == np.uint8
    assert b[4, 6] == 255 and b[0, 0] < 60 and b[4, 0] < b[4, 6]
    np.testing.assert_array_equal(b, b[::-1, ::-1])  # symmetric about the centre
