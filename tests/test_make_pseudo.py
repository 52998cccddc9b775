"""make_pseudo.py end to end: official EPS checkpoint == official inference rule; resume after interruption."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from test_eps_official_infer import official_labels, random_checkpoint
from tools_cli import load_tool
from wsss.engine.config import load_config
from wsss.registry import CAM_MODELS
from wsss.utils.io import read_label_png

ROOT = Path(__file__).resolve().parents[1]


def _run_tool(args):
    load_tool('make_pseudo').main([str(a) for a in args])


def test_official_eps_checkpoint_through_the_tool(tmp_path, tiny_voc):
    sd = random_checkpoint(seed=1)
    ckpt = tmp_path / 'checkpoint_cls.pth'
    torch.save(sd, ckpt)  # the official training saves model.module.state_dict() as a raw dict
    out = tmp_path / 'out'
    opts = [f'data_root={tiny_voc}', 'infer_dataset.ann_dir=SegmentationClass']
    _run_tool(['configs/cam/eps_resnet38_voc.py', '--checkpoint', ckpt, '--out-dir', out, '--no-crf',
               '--num-workers', '1', '--split', 'val', '--cfg-options', *opts])
    cfg = load_config(str(ROOT / 'configs/cam/eps_resnet38_voc.py'))
    model = CAM_MODELS.build(cfg.model)
    model.load_state_dict(sd, strict=True)
    model.eval()
    ids = (tiny_voc / 'ImageSets/Segmentation/val.txt').read_text().split()
    assert not (out / 'crf').exists()
    for image_id in ids:
        pil = Image.open(tiny_voc / 'JPEGImages' / f'{image_id}.jpg').convert('RGB')
        gt = read_label_png(tiny_voc / 'SegmentationClass' / f'{image_id}.png')
        label = np.zeros(20, np.float32)
        label[[c - 1 for c in np.unique(gt) if 0 < c < 21]] = 1
        ref, _ = official_labels(model, sd, pil, label)
        ours = read_label_png(out / 'nocrf' / f'{image_id}.png')
        assert Image.open(out / 'nocrf' / f'{image_id}.png').mode == 'P'
        np.testing.assert_array_equal(ours, ref)
    assert (out / 'metrics.json').is_file()


@pytest.fixture
def tiny_cam_ckpt(tmp_path):
    from support_models import TinyBackbone  # noqa: F401  (registers the backbone)
    torch.manual_seed(0)
    model = CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'), head=dict(type='EPSHead')))
    path = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def _tiny_cfg(tiny_voc, crf=True):
    from mmengine.config import Config
    return Config(dict(
        data_root=str(tiny_voc), saliency_dir='saliency/good',
        model=dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'), head=dict(type='EPSHead')),
        infer_dataset=dict(type='VOCDataset'),
        pseudo=dict(split='train', scales=(1.0, 0.5), flip=True, rule=dict(type='EPSRule', bg_score=0.2),
                    crf=dict(iterations=3) if crf else None, num_workers=1)))


def _outputs(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob('*.png'))}


def test_resume_after_interruption_matches_uninterrupted(tmp_path, tiny_voc, tiny_cam_ckpt, monkeypatch):
    from wsss.stages.pseudo import make as mp
    full = tmp_path / 'full'
    mp.run(_tiny_cfg(tiny_voc), tiny_cam_ckpt, full)
    # interrupted run: the process dies while writing the CRF label of the 2nd image
    part = tmp_path / 'part'
    calls = {'n': 0}
    real = mp.save_label_png

    def dying_save(path, label):
        if Path(path).parent.name == 'crf':
            calls['n'] += 1
            if calls['n'] == 2:
                raise KeyboardInterrupt('simulated kill')
        real(path, label)
    monkeypatch.setattr(mp, 'save_label_png', dying_save)
    with pytest.raises(KeyboardInterrupt):
        mp.run(_tiny_cfg(tiny_voc), tiny_cam_ckpt, part)
    monkeypatch.setattr(mp, 'save_label_png', real)
    assert len(list((part / 'crf').glob('*.png'))) == 1
    assert not [p for p in part.rglob('*') if p.name.endswith('.tmp')]
    mp.run(_tiny_cfg(tiny_voc), tiny_cam_ckpt, part)
    assert _outputs(part) == _outputs(full) and len(_outputs(full)) == 9
    log = (part / 'make_pseudo.log').read_text()
    assert '1 already done' in log


def test_a_rerun_from_other_inputs_is_refused_not_mixed(tmp_path, tiny_voc, tiny_cam_ckpt):
    """Finished images are skipped only when the folder's files come from the same checkpoint and settings;
    speed settings may change; a folder filled before the stamp existed is adopted."""
    from wsss.stages.pseudo import make as mp
    out = tmp_path / 'o'
    mp.run(_tiny_cfg(tiny_voc), tiny_cam_ckpt, out)
    before = _outputs(out)
    other = tmp_path / 'other.pth'
    ckpt = torch.load(tiny_cam_ckpt, weights_only=True)
    ckpt['state_dict'] = {k: v + 0.1 if v.is_floating_point() else v for k, v in ckpt['state_dict'].items()}
    torch.save(ckpt, other)
    with pytest.raises(ValueError, match=r'(?s)holds files made from other inputs.*checkpoint_sha256'):
        mp.run(_tiny_cfg(tiny_voc), other, out)
    cfg = _tiny_cfg(tiny_voc)
    cfg.pseudo.rule = dict(type='EPSRule', bg_score=0.3)
    with pytest.raises(ValueError, match=r'(?s)pseudo:.*bg_score'):
        mp.run(cfg, tiny_cam_ckpt, out)
    assert _outputs(out) == before
    cfg = _tiny_cfg(tiny_voc)
    cfg.pseudo.num_workers = 2                                    # speed only: resumed
    mp.run(cfg, tiny_cam_ckpt, out)
    assert (out / 'make_pseudo.log').read_text().count('3 already done, 0 to do here') == 1
    (out / '_inputs.json').unlink()                               # a folder from before the stamp
    mp.run(_tiny_cfg(tiny_voc), tiny_cam_ckpt, out)
    assert 'adopting them' in (out / 'make_pseudo.log').read_text() and (out / '_inputs.json').is_file()
    with pytest.raises(ValueError, match='checkpoint_sha256'):
        mp.run(_tiny_cfg(tiny_voc), other, out)                   # and it guards them from then on
    assert _outputs(out) == before


WORKERS_SCRIPT = """
import sys
from mmengine.config import Config
from wsss.stages.pseudo import make

def main():
    cfg = Config(dict(data_root=sys.argv[1], custom_imports=dict(imports=['support_models'], allow_failed_imports=False),
                      model=dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'), head=dict(type='EPSHead')),
                      infer_dataset=dict(type='VOCDataset'),
                      pseudo=dict(split='train', scales=(1.0,), flip=False, crf=None, num_workers=2)))
    make.run(cfg, sys.argv[2], sys.argv[3])

if __name__ == '__main__':
    main()
"""


@pytest.mark.slow
def test_worker_processes_exit_cleanly(tmp_path, tiny_voc, tiny_cam_ckpt):
    """--num-workers 2: the worker pool is closed, not terminated, so no semaphore of theirs is left for the
    resource tracker to report at shutdown."""
    import os
    import subprocess
    import sys
    script = tmp_path / 'workers.py'
    script.write_text(WORKERS_SCRIPT)
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), str(ROOT / 'tests')]), 'OMP_NUM_THREADS': '1'}
    res = subprocess.run([sys.executable, str(script), str(tiny_voc), str(tiny_cam_ckpt), str(tmp_path / 'o')],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert len(list((tmp_path / 'o' / 'nocrf').glob('*.png'))) == 3
    assert 'leaked semaphore' not in res.stderr, res.stderr[-2000:]


def test_crf_raises_mIoU_is_reported(tmp_path, tiny_voc, tiny_cam_ckpt):
    from wsss.engine.records import read_record
    from wsss.stages.pseudo import make
    sections = make.run(_tiny_cfg(tiny_voc), tiny_cam_ckpt, tmp_path / 'o')
    rec = read_record(tmp_path / 'o')
    assert rec.stage == 'make_pseudo' and rec.sections == sections
    assert set(sections) == {'seed', 'pseudo_nocrf', 'pseudo_crf'}
    for sec in sections.values():
        assert 0 <= sec['mIoU'] <= 100 and 'IoU' in sec


@pytest.mark.parametrize('fills', [False, True])
def test_crf_keeps_or_decides_the_rules_uncertain_pixels(tmp_path, tiny_voc, tiny_cam_ckpt, fills):
    from wsss.stages.pseudo.make import run as make_pseudo
    cfg = _tiny_cfg(tiny_voc)
    cfg.pseudo.rule = dict(type='SaliencyProxyRule')
    cfg.pseudo.use_saliency = True
    cfg.pseudo.crf_fills_ignore = fills
    out = tmp_path / 'o'
    with pytest.raises(ValueError, match='no saliency source'):
        make_pseudo(cfg, tiny_cam_ckpt, out)
    cfg.saliency_source = dict(type='FolderSaliency')
    make_pseudo(cfg, tiny_cam_ckpt, out)
    n_uncertain = 0
    for p in sorted((out / 'nocrf').glob('*.png')):
        before, after = read_label_png(p), read_label_png(out / 'crf' / p.name)
        n_uncertain += int((before == 255).sum())
        if fills:  # the CRF labels every pixel, the ones the rule left uncertain too
            assert not (after == 255).any()
        else:  # the rule's uncertain pixels stay 255, the others are the CRF's
            np.testing.assert_array_equal(after == 255, before == 255)
    assert n_uncertain > 0  # the tiny untrained model leaves some salient pixels unexplained
