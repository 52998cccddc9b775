"""tools/reproduce.py's driver: every stage of a paper row in order, finished stages skipped on a rerun, and the
table of our numbers beside the paper's. The real configs run on a tiny VOC-aug-layout synthetic set; only the
backbones are swapped for a tiny one and the schedule shortened, so the test takes seconds."""
import shutil

import pytest

import support_models  # noqa: F401  (registers TinyBackbone)
from wsss.datasets.synthetic import generate
from wsss.drivers.reproduce import ROWS, run_row
from wsss.engine.records import read_record

from test_configs import ROOT


@pytest.fixture(scope='module')
def voc_aug(tmp_path_factory):
    root = tmp_path_factory.mktemp('repro') / 'voc'
    generate(root, num_train=4, num_val=2, num_sod=0, size=48, seed=2, voc_aug=True)
    seg = root / 'ImageSets' / 'Segmentation'
    test_ids = []
    for i, image_id in enumerate((seg / 'val.txt').read_text().split()):  # images without masks, as VOC test
        shutil.copy(root / 'JPEGImages' / f'{image_id}.jpg', root / 'JPEGImages' / f'test_{i:06d}.jpg')
        test_ids.append(f'test_{i:06d}')
    (seg / 'test.txt').write_text(''.join(f'{i}\n' for i in test_ids))
    return root


def test_rows_name_existing_configs():
    for row in ROWS.values():
        assert (ROOT / row.cam).is_file() and (ROOT / row.seg).is_file() and row.source


def test_a_row_end_to_end_then_skipped(voc_aug, tmp_path):
    opts = {'data_root': str(voc_aug), 'model.backbone': dict(type='TinyBackbone'), 'train_cfg.max_iters': 1,
            'train_cfg.batch_size': 2, 'train_cfg.num_workers': 0}
    args = dict(work_dir=tmp_path, repo=ROOT, options=opts, cam_options={'saliency_dir': 'saliency/good'},
                num_workers=1)
    md = run_row('voc_eps', **args)
    out = tmp_path / 'voc_eps'
    lines = md.splitlines()
    assert lines[2] == '| stage | ours | paper | difference |'
    scored = read_record(out / 'pseudo_train')
    seed, labels = scored.section('seed')['mIoU'], scored.section('pseudo_nocrf')['mIoU']  # EPS: no CRF
    assert lines[4] == f'| CAM seed (train) | {seed:.1f} | – | – |'
    assert lines[5] == f'| pseudo-labels (train) | {labels:.1f} | 69.2 | {labels - 69.2:+.1f} |'
    val = read_record(out / 'seg').section('val_mscmax_crf')['mIoU']
    assert lines[6] == f'| segmenter (val, MSC-max + CRF) | {val:.1f} | 70.9 | {val - 70.9:+.1f} |'
    test_dir = out / 'seg' / 'results' / 'VOC2012' / 'Segmentation' / 'comp6_test_cls'
    assert len(list(test_dir.glob('*.png'))) == 2 and str(test_dir) in lines[7]
    assert (out / 'reproduce.md').read_text() == md + '\n'
    assert read_record(out / 'pseudo_train_aug').stage == 'make_pseudo'
    # a rerun finds every stage finished: nothing is trained again, same table
    stamps = {p: p.stat().st_mtime_ns for p in (out / 'cam' / 'final.pth', out / 'seg' / 'final.pth')}
    assert run_row('voc_eps', **args) == md
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
