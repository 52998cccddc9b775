"""The synthetic VOC-format data set generator (wsss.datasets.synthetic, tools/make_synthetic_voc.py)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools_cli import load_tool
from wsss.datasets import synthetic as syn
from wsss.datasets.synthetic.filters import boundary_band, gauss_blur
from wsss.drivers.workdirs import check_runs_match_data
from wsss.utils.io import read_label_png, read_lines
from wsss.utils.voc_meta import NUM_CLASSES

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(num_train=4, num_val=3, num_sod=5, size=64, seed=3)


def _load_cli():
    return load_tool('make_synthetic_voc')


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


def test_read_synthetic_meta(tiny_set, tmp_path):
    meta = syn.read_synthetic_meta(tiny_set)
    assert meta == json.loads((tiny_set / 'meta.json').read_text())
    assert syn.ensure_synthetic(tiny_set) == meta  # reused, not regenerated
    assert syn.read_synthetic_meta(tmp_path) is None  # no meta.json
    (tmp_path / 'meta.json').write_text(json.dumps(dict(generator='something else', version='0')))
    assert syn.read_synthetic_meta(tmp_path) is None  # not a synthetic set
    (tmp_path / 'meta.json').write_text(json.dumps(dict(meta, version='0.9')))
    with pytest.raises(RuntimeError, match='generator version 0.9'):
        syn.read_synthetic_meta(tmp_path)
    with pytest.raises(RuntimeError, match='generator version 0.9'):
        syn.ensure_synthetic(tmp_path)
    work = tmp_path / 'work'
    work.mkdir()
    check_runs_match_data(work, tiny_set)  # stamps the work dir
    check_runs_match_data(work, tiny_set)
    (work / 'data_meta.json').write_text(json.dumps(dict(generator=meta['generator'], version=meta['version'],
                                                          seed=meta['seed'] + 1, args=meta['args'])))
    with pytest.raises(RuntimeError, match='another synthetic set'):
        check_runs_match_data(work, tiny_set)


def test_params_override_reaches_every_module(monkeypatch, tmp_path):
    """benchmarks/synthetic_design_sweep.py sets constants on ``syn.params``: the renderer and the files
    written must follow."""
    base = syn.render_sample(0, 'train', 0, 64)
    monkeypatch.setattr(syn.params, 'BOUNDARY_RADIUS', 3.0)
    monkeypatch.setattr(syn.params, 'PART_FRACTION', (0.05, 0.07))
    wide = syn.render_sample(0, 'train', 0, 64)
    assert (wide.label == 255).sum() > (base.label == 255).sum()
    syn.generate(tmp_path, num_train=1, num_val=0, num_sod=0, size=64)
    meta = json.loads((tmp_path / 'meta.json').read_text())
    assert meta['params']['part_fraction'] == [0.05, 0.07]
    assert '(5%-7% of the object area' in (tmp_path / 'README.md').read_text()


def test_boundary_band_matches_reference():
    rng = np.random.default_rng(0)
    for radius in (1, 2, 3):
        # blocky instance map (so the band is not everything) with a few isolated pixels
        inst = np.kron(rng.integers(0, 4, (6, 7)), np.ones((5, 4), dtype=np.int64)).astype(np.uint8)
        inst[rng.integers(0, 30, 5), rng.integers(0, 28, 5)] = 7
        h, w = inst.shape
        ref = np.zeros((h, w), dtype=bool)
        for y in range(h):
            for x in range(w):
                win = inst[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1]
                ref[y, x] = (win != inst[y, x]).any()
        band = boundary_band(inst, radius)
        assert band.dtype == bool and band.shape == inst.shape
        np.testing.assert_array_equal(band, ref)
        assert 0 < band.sum() < band.size
    assert not boundary_band(np.full((5, 6), 3, np.uint8), 1).any()


def _reference_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Direct 2-D sum over the (2r+1)^2 window, float64, border mirrored without repeating the edge pixel."""
    r = max(1, int(np.ceil(3 * sigma)))
    g = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k2 = np.outer(g, g) / g.sum() ** 2
    pad = [(r, r), (r, r)] + [(0, 0)] * (a.ndim - 2)
    p = np.pad(a.astype(np.float64), pad, mode='reflect')
    h, w = a.shape[:2]
    out = np.zeros(a.shape, dtype=np.float64)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out += k2[dy, dx] * p[dy:dy + h, dx:dx + w]
    return out


@pytest.mark.parametrize('sigma', [0.55, 1.2, 3.0])
def test_gauss_blur(sigma):
    rng = np.random.default_rng(1)
    img = rng.random((23, 19, 3), dtype=np.float32)
    out = gauss_blur(img, sigma)
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_allclose(out, _reference_blur(img, sigma), rtol=0, atol=2e-6)
    np.testing.assert_allclose(gauss_blur(img[..., 0], sigma), out[..., 0], rtol=0, atol=2e-6)  # (H, W) too
    # impulse response away from the borders: sums to 1, symmetric, variance sigma^2 (Gaussian cut at 3 sigma)
    imp = np.zeros((41, 41), np.float32)
    imp[20, 20] = 1
    k = gauss_blur(imp, sigma).astype(np.float64)
    assert abs(k.sum() - 1) < 1e-5
    np.testing.assert_allclose(k, k[::-1], atol=1e-7)
    np.testing.assert_allclose(k, k.T, atol=1e-7)
    var = (k.sum(axis=1) * (np.arange(41) - 20) ** 2).sum()
    assert 0.9 * sigma ** 2 < var < 1.05 * sigma ** 2
    assert gauss_blur(img, 0) is img


def _part_offset(o) -> float:
    """Distance of the part's centre from the body's centroid, over the body's largest radius."""
    by, bx = np.nonzero(o.body)
    py, px = np.nonzero(o.part)
    radius = np.hypot(by - by.mean(), bx - bx.mean()).max()
    return float(np.hypot(py.mean() - by.mean(), px.mean() - bx.mean()) / radius)


def test_part_at_extremity(samples, monkeypatch):
    """PART_EXTREMITY puts the part among the fitting centres farthest from the body's centroid; the part stays
    inside the body and within PART_FRACTION."""
    monkeypatch.setattr(syn.params, 'PART_EXTREMITY', 0.7)
    moved = [syn.render_sample(0, 'train', i, 128) for i in range(30)]
    offsets = [_part_offset(o) for s in moved for o in s.objects]
    for s in moved:
        for o in s.objects:
            assert not (o.part & ~o.body).any()
            assert syn.PART_FRACTION[0] - 0.005 <= o.part.sum() / o.body.sum() <= syn.PART_FRACTION[1] + 0.005
    default = [_part_offset(o) for s in samples[:30] for o in s.objects]
    assert np.mean(offsets) > np.mean(default) + 0.12
    assert np.percentile(offsets, 10) > np.percentile(default, 10)


@pytest.mark.parametrize('each', [0.0, 0.03, 0.1])
def test_foreign_context_per_class(monkeypatch, tmp_path, each):
    """P_FOREIGN_CONTEXT_EACH: each absent class brings its context on its own, so an image carries about
    19 x p foreign contexts (the single draw of P_FOREIGN_CONTEXT gives at most one)."""
    monkeypatch.setattr(syn.params, 'P_FOREIGN_CONTEXT_EACH', each)
    counts = [sum(c.foreign for c in syn.render_sample(1, 'train', i, 64).contexts) for i in range(80)]
    expected = (NUM_CLASSES - 1.4) * each  # ~1.4 classes present per image
    assert abs(np.mean(counts) - expected) < 0.1 + 3 * np.sqrt(expected / len(counts))
    if each == 0.1:
        assert max(counts) >= 3
    syn.generate(tmp_path, num_train=1, num_val=0, num_sod=0, size=48)
    assert json.loads((tmp_path / 'meta.json').read_text())['params']['p_foreign_context_each'] == each


def test_workers_write_the_same_bytes_and_see_overridden_constants(tiny_set, tmp_path):
    syn.generate(tmp_path / 'pool', **TINY, workers=2)
    pool = _files(tmp_path / 'pool')
    assert pool.keys() == _files(tiny_set).keys() and all(pool[k] == v for k, v in _files(tiny_set).items())
    with syn.params.overridden(JPEG_QUALITY=60):  # a variant: the workers must render it too
        syn.generate(tmp_path / 'serial60', **TINY, workers=1)
        syn.generate(tmp_path / 'pool60', **TINY, workers=2)
    a, b = _files(tmp_path / 'serial60'), _files(tmp_path / 'pool60')
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    jpgs = [k for k in a if k.endswith('.jpg')]
    assert jpgs and all(a[k] != pool[k] for k in jpgs)
