"""End-to-end smoke run on a tiny synthetic set: generate -> train CAM -> pseudo-labels (+CRF) -> DeepLab ->
evaluate -> table, through the same engine calls the tools make."""
import json
from pathlib import Path

import pytest

from wsss.datasets.checks import DataCheckError
from wsss.datasets.synthetic import generate
from wsss.engine.config import load_config
from wsss.metrics.label_dirs import LabelDirError
from wsss.report.tables import make_table
from wsss.stages.cam.train import run as train_cam
from wsss.stages.pseudo.make import run as make_pseudo
from wsss.stages.seg.evaluate import run as eval_seg
from wsss.stages.seg.train import run as train_seg
from wsss.utils.io import save_label_png

ROOT = Path(__file__).resolve().parents[1]
TINY = {'model.backbone': dict(type='TinyBackbone', width=8), 'train_cfg.max_iters': 4, 'train_cfg.batch_size': 4,
        'train_cfg.num_workers': 0, 'train_cfg.log_interval': 2}


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    import support_models  # noqa: F401  (registers TinyBackbone)
    root = tmp_path_factory.mktemp('synth') / 'voc'
    generate(str(root), num_train=12, num_val=6, num_sod=4, size=64, seed=1)
    return root


@pytest.mark.slow
def test_pipeline_end_to_end(tmp_path, synth):
    cfg = load_config(str(ROOT / 'configs/cam/eps_seenet_lite0_synthetic.py'),
                      {'data_root': str(synth), **TINY, 'pseudo.num_workers': 1, 'pseudo.scales': (1.0,),
                       'pseudo.crf.iterations': 2})
    train_cam(cfg, tmp_path / 'cam')
    assert (tmp_path / 'cam' / 'final.pth').is_file() and (tmp_path / 'cam' / 'config.py').is_file()
    assert (tmp_path / 'cam' / 'train.log').is_file()
    m = make_pseudo(cfg, tmp_path / 'cam' / 'final.pth', tmp_path / 'pseudo')
    assert set(m) == {'seed', 'pseudo_nocrf', 'pseudo_crf'}
    assert 'context_fg_rate' in m['pseudo_nocrf']['extra']  # the config's SyntheticRegionStats
    assert len(list((tmp_path / 'pseudo' / 'crf').glob('*.png'))) == 12

    seg_cfg = load_config(str(ROOT / 'configs/seg/deeplabv2_lite0_synthetic.py'),
                          {'data_root': str(synth), 'label_dir': str(tmp_path / 'pseudo' / 'crf'), **TINY})
    res = train_seg(seg_cfg, tmp_path / 'seg')
    assert 'val_ss' in res
    eval_seg(seg_cfg, tmp_path / 'seg' / 'final.pth', tmp_path / 'seg', scales=(0.75, 1.0), flip=True, crf=True)
    secs = json.loads((tmp_path / 'seg' / 'metrics.json').read_text())['sections']
    assert set(secs) == {'val_ss', 'val_ms_flip_crf'}
    assert len(list((tmp_path / 'seg' / 'pred_val_ms_flip_crf').glob('*.png'))) == 6
    md = make_table([str(tmp_path / 'pseudo'), str(tmp_path / 'seg')], out=str(tmp_path / 'table'))
    assert 'mIoU' in md and (tmp_path / 'table.csv').is_file()


def test_bad_pseudo_labels_fail_before_training(tmp_path, synth):
    import shutil
    labels = tmp_path / 'labels'
    shutil.copytree(synth / 'SegmentationClass', labels)
    ids = (synth / 'ImageSets/Segmentation/train.txt').read_text().split()
    (labels / f'{ids[0]}.png').unlink()
    import numpy as np
    save_label_png(labels / f'{ids[1]}.png', np.full((64, 64), 42, np.uint8))
    cfg = load_config(str(ROOT / 'configs/seg/deeplabv2_lite0_synthetic.py'),
                      {'data_root': str(synth), 'label_dir': str(labels), **TINY})
    with pytest.raises(DataCheckError) as e:  # the data checks: both files in one error
        train_seg(cfg, tmp_path / 'seg')
    assert ids[0] in str(e.value) and ids[1] in str(e.value)
    assert not (tmp_path / 'seg').exists()
    cfg.check_data = False  # without the data checks the labels are still validated before training
    with pytest.raises(LabelDirError) as e:
        train_seg(cfg, tmp_path / 'seg')
    assert ids[0] in str(e.value) and ids[1] in str(e.value)
    assert not (tmp_path / 'seg' / 'latest.pth').exists()


def test_seg_resume_equals_uninterrupted(tmp_path, synth):
    import torch
    opts = {'data_root': str(synth), 'label_dir': 'SegmentationClass', **TINY, 'train_cfg.max_iters': 5}
    cfg = lambda: load_config(str(ROOT / 'configs/seg/deeplabv2_lite0_synthetic.py'), opts)  # noqa: E731
    train_seg(cfg(), tmp_path / 'a', evaluate_after=False)
    train_seg(cfg(), tmp_path / 'b', stop_at=2)
    train_seg(cfg(), tmp_path / 'b', resume=True, evaluate_after=False)
    a = torch.load(tmp_path / 'a' / 'final.pth', weights_only=True)['state_dict']
    b = torch.load(tmp_path / 'b' / 'final.pth', weights_only=True)['state_dict']
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)


def test_seg_label_dir_relative_to_a_relative_data_root(tmp_path, synth, monkeypatch):
    """label_dir='SegmentationClass' with data_root given relative to the working directory (as the README's
    commands do) is found once, not as <data_root>/<data_root>/SegmentationClass."""
    monkeypatch.chdir(synth.parent)
    opts = {'data_root': synth.name, 'label_dir': 'SegmentationClass', **TINY, 'train_cfg.max_iters': 1}
    cfg = load_config(str(ROOT / 'configs/seg/deeplabv2_lite0_synthetic.py'), opts)
    train_seg(cfg, tmp_path / 'seg', evaluate_after=False)
    assert (tmp_path / 'seg' / 'final.pth').is_file()
