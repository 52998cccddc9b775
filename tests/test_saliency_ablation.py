"""The saliency-source ablation driver (tools/ablate_saliency.py): source specs, ground-truth foreground, and one
end-to-end run on a tiny synthetic set with a folder source, a model source trained on the set's SOD split, and
'none' — then a rerun that changes nothing."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wsss.datasets.synthetic import generate
from wsss.drivers.saliency_ablation import Source, foreground_masks, run_saliency_ablation
from wsss.metrics.sod import evaluate_folder
from wsss.utils.io import save_label_png

ROOT = Path(__file__).resolve().parents[1]


def test_source_specs():
    assert Source.parse('good=folder:saliency/good') == Source('good', 'folder', 'saliency/good')
    assert Source.parse('folder:/abs/maps') == Source('maps', 'folder', '/abs/maps')
    assert Source.parse('none') == Source('none', 'none')
    assert Source.parse('b=model:configs/x.py@ck=1.pth') == Source('b', 'model', 'configs/x.py', 'ck=1.pth')
    assert Source.parse('model:configs/y.py') == Source('y', 'model', 'configs/y.py', None)
    for bad in ('good=saliency/good', 'folder:', 'x=model:', 'none:x'):
        with pytest.raises(ValueError, match='expected NAME=folder:DIR'):
            Source.parse(bad)


def test_foreground_masks_count_void_as_foreground(tmp_path):
    label = np.array([[0, 3, 255], [0, 0, 20]], np.uint8)
    save_label_png(tmp_path / 'SegmentationClass' / 'a.png', label)
    out = foreground_masks(tmp_path, ['a'], tmp_path / 'fg')
    assert np.array_equal(np.asarray(Image.open(out / 'a.png')), [[0, 255, 255], [0, 0, 255]])


TINY_CAM = {'model.backbone': dict(type='TinyBackbone', width=8), 'train_cfg.max_iters': 3,
            'train_cfg.batch_size': 4, 'train_cfg.num_workers': 0, 'train_cfg.log_interval': 1,
            'pseudo.num_workers': 1, 'pseudo.scales': (1.0,), 'pseudo.crf.iterations': 1}
TINY_SAL = {'model.depth': 8, 'model.base_size': [64, 64], 'train_cfg.max_iters': 2, 'train_cfg.batch_size': 2,
            'train_cfg.num_workers': 0, 'train_cfg.log_interval': 1, 'train_cfg.ckpt_interval': 2}


TINY_SEG = {'model.backbone': dict(type='TinyBackbone', width=8), 'train_cfg.max_iters': 2,
            'train_cfg.batch_size': 4, 'train_cfg.num_workers': 0, 'train_cfg.log_interval': 1}


@pytest.mark.slow
def test_three_sources_end_to_end_and_resume(tmp_path):
    import support_models  # noqa: F401  (registers TinyBackbone)
    data = tmp_path / 'voc'
    generate(str(data), num_train=8, num_val=4, num_sod=4, size=64, seed=3)
    sources = ['good=folder:saliency/good', 'r50=model:configs/saliency/inspyrenet_res2net50_synthetic.py',
               'none=none']
    kw = dict(data_root=data, sources=sources, cam_config='configs/cam/eps_lite0_synthetic.py', repo=ROOT,
              num_workers=1, seg_config='configs/seg/deeplabv2_lite0_synthetic.py',
              options={'cam': TINY_CAM, 'saliency': TINY_SAL, 'seg': TINY_SEG})
    md = run_saliency_ablation(tmp_path / 'work', **kw)
    rows = [ln for ln in md.splitlines() if ln.startswith('| ') and not ln.startswith('| saliency')]
    assert [r.split(' | ')[0] for r in rows] == ['| good', '| r50', '| none']
    assert md.splitlines()[0].startswith('| saliency | MAE ↓ | max F ↑ | S-measure ↑ | mean E ↑ | seed mIoU |')
    assert md.splitlines()[0].endswith('| pseudo mIoU (CRF) | segmenter mIoU (val) |')
    import json
    seg = json.loads((tmp_path / 'work' / 'none' / 'seg' / 'metrics.json').read_text())['sections']['val_ss']
    assert rows[2].split(' | ')[-1] == f"{seg['mIoU']:.1f} |"   # the segmenter trained on that row's labels
    # the folder source is scored as given, against SegmentationClass != 0 of the train split
    ids = (data / 'ImageSets' / 'Segmentation' / 'train.txt').read_text().split()
    fg = foreground_masks(data, ids, tmp_path / 'fg')
    mae = evaluate_folder(data / 'saliency' / 'good', fg, ids)['mae']
    assert rows[0].split(' | ')[1] == f'{mae:.3f}'
    # the model source was trained on the SOD split, then predicted every image of the set
    work = tmp_path / 'work'
    assert (work / 'r50' / 'saliency_train' / 'final.pth').is_file()
    assert len(list((work / 'r50' / 'maps').glob('*.png'))) == len(list((data / 'JPEGImages').glob('*.jpg')))
    assert rows[2].split(' | ')[1] == '–'  # no maps, no SOD metrics
    assert (work / 'saliency_ablation.csv').is_file()
    stamp = (work / 'r50' / 'cam' / 'final.pth').stat().st_mtime_ns
    assert run_saliency_ablation(tmp_path / 'work', **kw) == md  # finished steps are skipped
    assert (work / 'r50' / 'cam' / 'final.pth').stat().st_mtime_ns == stamp
