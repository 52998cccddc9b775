"""The synthetic VOC-format data set generator (wsss.datasets.synthetic, tools/make_synthetic_voc.py)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wsss.datasets import synthetic as syn
from wsss.utils.voc_meta import NUM_CLASSES
from wsss.utils.io import read_label_png, read_lines

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(num_train=4, num_val=3, num_sod=5, size=64, seed=3)


def _load_cli():
    spec = importlib.util.spec_from_file_location('make_synthetic_voc', ROOT / 'tools' / 'make_synthetic_voc.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope='module')
def tiny_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('syn') / 'voc'
    argv = [str(out)] + [f'--{k.replace("_", "-")}={v}' for k, v in TINY.items()] + ['--quiet']
    assert _load_cli().main(argv) == 0
    return out


@pytest.fixture(scope='module')
def samples() -> list:
    """60 train images at 128 px, in memory."""
    return [syn.render_sample(0, 'train', i, 128) for i in range(60)]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def test_layout_and_lists(tiny_set):
    seg = tiny_set / 'ImageSets' / 'Segmentation'
    train, val, trainval = (read_lines(seg / f'{s}.txt') for s in ('train', 'val', 'trainval'))
    assert len(train) == TINY['num_train'] and len(val) == TINY['num_val']
    assert trainval == train + val and not set(train) & set(val)
    assert all(i.startswith('syn_') and len(i) == 10 for i in trainval)
    for i in trainval:
        with Image.open(tiny_set / 'JPEGImages' / f'{i}.jpg') as im:
            assert im.format == 'JPEG' and im.mode == 'RGB' and im.size == (64, 64)
        with Image.open(tiny_set / 'SegmentationClass' / f'{i}.png') as im:
            assert im.mode == 'P'
        lab = read_label_png(tiny_set / 'SegmentationClass' / f'{i}.png')
        assert set(np.unique(lab).tolist()) <= set(range(NUM_CLASSES + 1)) | {255}
        assert (lab == 255).any() and ((lab > 0) & (lab < 255)).any()
        with Image.open(tiny_set / 'SyntheticRegions' / f'{i}.png') as im:
            assert im.mode == 'L' and im.size == (64, 64)
            reg = np.asarray(im)
        assert set(np.unique(reg).tolist()) <= {0, 1, 2, 3, 255}
        np.testing.assert_array_equal(reg == 255, lab == 255)
        for q in ('good', 'poor'):
            with Image.open(tiny_set / 'saliency' / q / f'{i}.png') as im:
                assert im.mode == 'L' and im.size == (64, 64)
    meta = json.loads((tiny_set / 'meta.json').read_text())
    assert meta['version'] == syn.GENERATOR_VERSION and meta['seed'] == TINY['seed'] and meta['args'] == TINY
    assert [c['name'] for c in meta['classes']][:2] == ['aeroplane', 'bicycle'] and len(meta['classes']) == 20
    assert 'SyntheticRegions' in (tiny_set / 'README.md').read_text()


def test_sod_layout(tiny_set):
    sod = tiny_set / 'sod'
    tr, te = read_lines(sod / 'train.txt'), read_lines(sod / 'test.txt')
    assert len(tr) == 4 and len(te) == 1 and not set(tr) & set(te)
    for n in tr + te:
        with Image.open(sod / 'Image' / f'{n}.jpg') as im:
            assert im.mode == 'RGB' and im.size == (64, 64)
        with Image.open(sod / 'GT' / f'{n}.png') as im:
            assert im.mode == 'L' and im.size == (64, 64)
            gt = np.asarray(im)
        assert set(np.unique(gt).tolist()) <= {0, 255} and (gt == 255).any()


def test_deterministic_bytes(tiny_set, tmp_path):
    syn.generate(tmp_path / 'again', **TINY)
    a, b = _files(tiny_set), _files(tmp_path / 'again')
    assert a.keys() == b.keys() and len(a) > 30
    assert all(a[k] == b[k] for k in a)


def test_regenerate_alone(tiny_set):
    name = read_lines(tiny_set / 'ImageSets' / 'Segmentation' / 'val.txt')[1]
    assert syn.parse_id(name) == ('val', 1)
    smp = syn.render_by_id(name, seed=TINY['seed'], size=TINY['size'])
    np.testing.assert_array_equal(smp.label, read_label_png(tiny_set / 'SegmentationClass' / f'{name}.png'))
    assert syn.render_sample(TINY['seed'], 'train', 1, 64).image.tobytes() != smp.image.tobytes()


def test_every_class_appears(samples):
    seen = set()
    for s in samples:
        seen |= set(s.classes)
        assert s.classes and sorted({o.cls for o in s.objects}) == s.classes  # no object fully hidden
        assert 1 <= len(s.objects) <= 3
    assert seen == set(range(1, NUM_CLASSES + 1))
    assert 1.2 < np.mean([len(s.classes) for s in samples]) < 1.8


def test_context_mostly_with_its_class(samples):
    own = with_cls = foreign = without = 0
    for s in samples:
        ctx_vis = s.regions == syn.REGION_CONTEXT
        shown = {c.cls for c in s.contexts if (c.region & ctx_vis).any()}
        assert (s.label[ctx_vis] == 0).all()
        for c in range(1, NUM_CLASSES + 1):
            if c in s.classes:
                with_cls, own = with_cls + 1, own + (c in shown)
            else:
                without, foreign = without + 1, foreign + (c in shown)
    assert own / with_cls > 0.85
    assert 0.0 < foreign / without < 0.05


def test_part_fraction_and_regions(samples):
    across = []
    for s in samples:
        for o in s.objects:
            assert not (o.part & ~o.body).any()
            assert syn.PART_FRACTION[0] - 0.005 <= o.part.sum() / o.body.sum() <= syn.PART_FRACTION[1] + 0.005
            assert 0.05 <= syn.PART_FRACTION[0] and syn.PART_FRACTION[1] <= 0.10  # the 5-10 %
            across.append(2 * np.sqrt(o.part.sum() / np.pi))  # diameter of the disc of the same area
    assert 12 <= min(across) and max(across) <= 30
    assert np.median(across) >= 2 * 8  # typically 2+ cells of a stride-8 CAM wide
    for s in samples:
        fg = (s.label > 0) & (s.label < 255)
        np.testing.assert_array_equal(fg, np.isin(s.regions, [syn.REGION_BODY, syn.REGION_PART]))
        assert (s.regions == syn.REGION_PART).any()


def test_saliency_good_and_poor(samples):
    iou = {'good': [], 'poor': []}
    for i, s in enumerate(samples[:20]):
        good, poor = syn.saliency_maps(s, 0, 'train', i)
        assert good.shape == poor.shape == s.label.shape and good.dtype == np.uint8
        again = syn.saliency_maps(s, 0, 'train', i)
        assert np.array_equal(good, again[0]) and np.array_equal(poor, again[1])
        fg, valid = (s.label > 0) & (s.label < 255), s.label != 255
        for q, m in (('good', good), ('poor', poor)):
            m = m > 127
            iou[q].append((m & fg & valid).sum() / max(1, ((m | fg) & valid).sum()))
    assert np.mean(iou['good']) > 0.9 and np.mean(iou['poor']) < 0.8
