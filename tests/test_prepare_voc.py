"""tools/prepare_voc.py on a miniature VOCdevkit/VOC2012 + SBD benchmark_RELEASE tree in the official formats.

VOC: JPEGImages, palette SegmentationClass PNGs with 255 borders, Annotations/<id>.xml, ImageSets/Segmentation
{train,val}.txt. SBD: dataset/{train,val}.txt, dataset/cls/<id>.mat written by scipy.io.savemat with the official
struct GTcls {Segmentation uint8, Boundaries 20x1 cell of sparse maps, CategoriesPresent}, dataset/img/<id>.jpg.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse
from PIL import Image

from tools_cli import load_tool
from wsss.datasets.voc import VOCDataset, load_labels_file
from wsss.datasets.voc_prepare import PrepareError, read_sbd_mask
from wsss.utils.io import read_label_png, save_label_png
from wsss.utils.voc_meta import VOC_CLASSES

# id: (classes, h, w); VOC train A B C, VOC val D E, SBD-only S1 S2 S3; B is also SBD train, D also SBD val
A, B, C, D, E = '2007_000032', '2007_000039', '2007_000063', '2007_000033', '2007_000042'
S1, S2, S3 = '2008_000002', '2008_000003', '2008_000008'
EXTRA = '2012_000001'  # a VOC image in no segmentation list (VOC has 17,125 JPEGs, 2,913 of them segmented)
IMAGES = {A: ((1,), 24, 32), B: ((12, 15), 28, 30), C: ((7,), 30, 24), D: ((3, 20), 26, 34), E: ((9,), 24, 24),
          S1: ((5, 15), 32, 26), S2: ((19,), 22, 30), S3: ((11,), 28, 28), EXTRA: ((2,), 20, 20)}
VOC_TRAIN, VOC_VAL = [A, B, C], [D, E]
SBD_TRAIN, SBD_VAL = [S1, S2, B], [S3, D]
SBD_CLASSES = {B: (8,)}  # SBD's mask of B shows another class: VOC's must win
TRAIN_AUG = sorted({S1, S2, B, S3, D, A, C} - {D, E})   # (SBD train | SBD val | VOC train) - VOC val


def _mask(classes, h, w, seed) -> np.ndarray:
    """Objects of the given classes on background (0..20, no 255)."""
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), np.uint8)
    for k, c in enumerate(classes):
        y, x = int(rng.integers(1, h // 2)), int(rng.integers(1, w // 2))
        m[y:y + h // 3 + 2 * k, x:x + w // 3 + 2 * k] = c
    return m


def _with_border(m: np.ndarray) -> np.ndarray:
    """VOC style: a 255 band on the inner edge of every object."""
    edge = np.zeros(m.shape, bool)
    edge[1:] |= m[1:] != m[:-1]
    edge[:-1] |= m[:-1] != m[1:]
    edge[:, 1:] |= m[:, 1:] != m[:, :-1]
    edge[:, :-1] |= m[:, :-1] != m[:, 1:]
    out = m.copy()
    out[edge & (m > 0)] = 255
    return out


def _xml(image_id, m, h, w) -> str:
    objs = ''
    for c in np.unique(m[(m > 0) & (m < 255)]):
        ys, xs = np.nonzero(m == c)
        objs += (f'\t<object>\n\t\t<name>{VOC_CLASSES[c - 1]}</name>\n\t\t<pose>Unspecified</pose>\n'
                 f'\t\t<truncated>0</truncated>\n\t\t<difficult>0</difficult>\n\t\t<bndbox>\n'
                 f'\t\t\t<xmin>{xs.min() + 1}</xmin>\n\t\t\t<ymin>{ys.min() + 1}</ymin>\n'
                 f'\t\t\t<xmax>{xs.max() + 1}</xmax>\n\t\t\t<ymax>{ys.max() + 1}</ymax>\n\t\t</bndbox>\n\t</object>\n')
    return (f'<annotation>\n\t<folder>VOC2012</folder>\n\t<filename>{image_id}.jpg</filename>\n'
            f'\t<source>\n\t\t<database>The VOC2007 Database</database>\n\t\t<annotation>PASCAL VOC2007</annotation>\n'
            f'\t\t<image>flickr</image>\n\t</source>\n\t<size>\n\t\t<width>{w}</width>\n\t\t<height>{h}</height>\n'
            f'\t\t<depth>3</depth>\n\t</size>\n\t<segmented>1</segmented>\n{objs}</annotation>\n')


def write_sbd_mat(path: Path, seg: np.ndarray) -> None:
    """The official dataset/cls/<id>.mat layout: struct GTcls {Segmentation, Boundaries, CategoriesPresent}."""
    boundaries = np.empty((20, 1), dtype=object)
    edge = _with_border(seg) == 255
    for c in range(1, 21):
        boundaries[c - 1, 0] = scipy.sparse.csc_matrix(edge & (seg == c))
    present = np.unique(seg[seg > 0]).astype(np.uint8).reshape(-1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(str(path), {'GTcls': {'Segmentation': seg.astype(np.uint8), 'Boundaries': boundaries,
                                           'CategoriesPresent': present}}, do_compression=True)


@pytest.fixture
def trees(tmp_path):
    """(VOCdevkit/VOC2012, benchmark_RELEASE, {id: expected SegmentationClassAug labels})."""
    voc, sbd = tmp_path / 'VOCdevkit' / 'VOC2012', tmp_path / 'benchmark_RELEASE'
    expected = {}
    for n, (image_id, (classes, h, w)) in enumerate(IMAGES.items()):
        m = _mask(classes, h, w, seed=n)
        rgb = np.random.default_rng(n).integers(0, 255, (h, w, 3)).astype(np.uint8)
        (voc / 'JPEGImages').mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(voc / 'JPEGImages' / f'{image_id}.jpg', quality=90)
        (voc / 'Annotations').mkdir(exist_ok=True)
        (voc / 'Annotations' / f'{image_id}.xml').write_text(_xml(image_id, m, h, w))
        if image_id in VOC_TRAIN + VOC_VAL:
            expected[image_id] = _with_border(m)
            save_label_png(voc / 'SegmentationClass' / f'{image_id}.png', expected[image_id])
        if image_id in SBD_TRAIN + SBD_VAL:
            sbd_m = _mask(SBD_CLASSES[image_id], h, w, seed=99) if image_id in SBD_CLASSES else m
            write_sbd_mat(sbd / 'dataset' / 'cls' / f'{image_id}.mat', sbd_m)
            (sbd / 'dataset' / 'img').mkdir(parents=True, exist_ok=True)
            Image.fromarray(rgb).save(sbd / 'dataset' / 'img' / f'{image_id}.jpg', quality=90)
            expected.setdefault(image_id, m)
    lists = voc / 'ImageSets' / 'Segmentation'
    lists.mkdir(parents=True)
    (lists / 'train.txt').write_text(''.join(f'{i}\n' for i in VOC_TRAIN))
    (lists / 'val.txt').write_text(''.join(f'{i}\n' for i in VOC_VAL))
    (sbd / 'dataset' / 'train.txt').write_text(''.join(f'{i}\n' for i in SBD_TRAIN))
    (sbd / 'dataset' / 'val.txt').write_text(''.join(f'{i}\n' for i in SBD_VAL))
    return voc, sbd, expected


def _run(voc, sbd, out, capsys=None) -> str:
    with pytest.warns(UserWarning, match='differ|official'):
        assert load_tool('prepare_voc').main(['--voc', str(voc), '--sbd', str(sbd), '--out', str(out)]) == 0
    return capsys.readouterr().out if capsys else ''


def _labels(m: np.ndarray) -> list[int]:
    return [int(c) - 1 for c in np.unique(m) if 1 <= c <= 20]


def test_fixture_mat_is_the_official_layout(trees):
    """The .mat reads as SBD's does (mmsegmentation's voc_aug.py access path) and as our reader does."""
    _, sbd, expected = trees
    path = sbd / 'dataset' / 'cls' / f'{S1}.mat'
    data = scipy.io.loadmat(str(path))
    gt = data['GTcls']
    assert gt.shape == (1, 1) and set(gt.dtype.names) == {'Segmentation', 'Boundaries', 'CategoriesPresent'}
    assert gt[0]['Boundaries'][0].shape == (20, 1) and scipy.sparse.issparse(gt[0]['Boundaries'][0][0, 0])
    assert np.array_equal(gt[0]['Segmentation'][0], expected[S1])
    assert np.array_equal(read_sbd_mask(path), expected[S1])
    assert gt[0]['CategoriesPresent'][0].ravel().tolist() == [5, 15]


def test_converts_lists_masks_and_labels(trees, tmp_path, capsys):
    """Counts and lists (a VOC val id that SBD also has is not in train_aug), masks, labels; small counts warn
    with both numbers."""
    voc, sbd, expected = trees
    out = tmp_path / 'voc_aug'
    with pytest.warns(UserWarning) as rec:
        load_tool('prepare_voc').main(['--voc', str(voc), '--sbd', str(sbd), '--out', str(out)])
    msgs = [str(w.message) for w in rec]
    assert any('train_aug: 6 ids' in m and '10582' in m for m in msgs)
    assert any('train: 3 ids' in m and '1464' in m for m in msgs) and any('val: 2 ids' in m and '1449' in m
                                                                          for m in msgs)
    line = capsys.readouterr().out
    assert 'prepare_voc:' in line and '0 skipped' in line and '8 masks' in line

    read = lambda name: (out / 'ImageSets' / 'Segmentation' / f'{name}.txt').read_text().split()  # noqa: E731
    assert read('train') == VOC_TRAIN and read('val') == VOC_VAL
    assert read('train_aug') == TRAIN_AUG == read('trainaug') and D not in TRAIN_AUG and len(TRAIN_AUG) == 6
    assert read('aug') == sorted({S1, S2, S3})   # mmseg's pascal_voc12_aug.py: aug.txt with SegmentationClassAug

    written = sorted(p.stem for p in (out / 'SegmentationClassAug').iterdir())
    assert written == sorted(set(TRAIN_AUG) | set(VOC_VAL)) and EXTRA not in written
    for image_id in written:
        path = out / 'SegmentationClassAug' / f'{image_id}.png'
        assert Image.open(path).mode == 'P'
        assert np.array_equal(read_label_png(path), expected[image_id]), image_id
    assert 255 not in read_label_png(out / 'SegmentationClassAug' / f'{S1}.png')   # SBD has no 255

    js = json.loads((out / 'cls_labels.json').read_text())
    assert list(js) == sorted(written)
    assert js == {i: _labels(expected[i]) for i in written}
    assert js[D] == [2, 19] and js[S1] == [4, 14]
    raw = np.load(out / 'cls_labels.npy', allow_pickle=True).item()   # the EPS/PSA layout
    assert set(raw) == set(written)
    for i, v in raw.items():
        assert v.dtype == np.float32 and v.shape == (20,) and set(np.unique(v)) <= {0.0, 1.0}
        assert np.flatnonzero(v).tolist() == js[i]
    assert {k: v.tolist() for k, v in load_labels_file(out / 'cls_labels.json').items()} == \
        {k: v.tolist() for k, v in load_labels_file(out / 'cls_labels.npy').items()}

    assert (out / 'JPEGImages').is_symlink() and (out / 'JPEGImages').resolve() == (voc / 'JPEGImages').resolve()
    assert (out / 'SegmentationClass').resolve() == (voc / 'SegmentationClass').resolve()


def test_voc_masks_win_over_sbd(trees, tmp_path):
    """B is in VOC train and SBD train with different labels: the output is VOC's PNG, 255 borders included."""
    voc, sbd, expected = trees
    out = tmp_path / 'out'
    _run(voc, sbd, out)
    got = out / 'SegmentationClassAug' / f'{B}.png'
    assert got.read_bytes() == (voc / 'SegmentationClass' / f'{B}.png').read_bytes()
    mask = read_label_png(got)
    sbd_mask = read_sbd_mask(sbd / 'dataset' / 'cls' / f'{B}.mat')
    assert 255 in mask and not np.array_equal(mask, sbd_mask) and 8 in sbd_mask and 8 not in mask
    assert json.loads((out / 'cls_labels.json').read_text())[B] == [11, 14]


def test_problems_are_reported_together_before_writing(trees, tmp_path):
    """A corrupt .mat, a .mat without GTcls, a missing JPEG, an id missing both its VOC mask and its JPEG, and a
    foreign JPEGImages in the output: one error naming each, and nothing written."""
    voc, sbd, _ = trees
    cls = sbd / 'dataset' / 'cls'
    (cls / f'{S2}.mat').write_bytes(b'MATLAB 5.0 MAT-file, truncated')
    scipy.io.savemat(str(cls / f'{S3}.mat'), {'GTinst': {'Segmentation': np.zeros((28, 28), np.uint8)}})
    (voc / 'JPEGImages' / f'{C}.jpg').unlink()
    (voc / 'JPEGImages' / f'{E}.jpg').unlink()
    (voc / 'SegmentationClass' / f'{E}.png').unlink()
    out = tmp_path / 'out'
    (out / 'JPEGImages').mkdir(parents=True)
    with pytest.raises(PrepareError) as e:
        load_tool('prepare_voc').main(['--voc', str(voc), '--sbd', str(sbd), '--out', str(out)])
    msg = str(e.value)
    assert len(e.value.problems) == 6 and msg.startswith('6 problem(s)')
    assert f'{S2}.mat: unreadable .mat' in msg and f'{S3}.mat: no GTcls struct' in msg
    assert f'{C}.jpg: missing image' in msg and f'{out / "JPEGImages"}: exists and is not' in msg
    assert f'{E}.jpg: missing image' in msg and f'{E}.png' in msg
    assert sorted(p.name for p in out.iterdir()) == ['JPEGImages'] and not any((out / 'JPEGImages').iterdir())


def test_rerun_changes_nothing_and_an_interrupted_run_continues(trees, tmp_path, capsys):
    voc, sbd, _ = trees
    out = tmp_path / 'out'
    _run(voc, sbd, out)

    def snapshot():  # every file and link: (content, mtime)
        snap = {}
        for root, dirs, files in os.walk(out):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                p = Path(root, name)
                snap[p.relative_to(out).as_posix()] = (os.readlink(p) if p.is_symlink() else p.read_bytes(),
                                                       p.lstat().st_mtime_ns)
        return snap
    before = snapshot()
    assert len(before) == 8 + 5 + 2 + 2   # masks, lists, labels, links
    line = _run(voc, sbd, out, capsys)
    assert snapshot() == before and ' 0 written, 17 skipped' in line

    # an interrupted run: two masks and the npy missing, a temporary file left behind
    (out / 'SegmentationClassAug' / f'{S1}.png').unlink()
    (out / 'SegmentationClassAug' / f'{A}.png').unlink()
    (out / 'cls_labels.npy').unlink()
    (out / 'SegmentationClassAug' / f'.{S2}.png.abc123.tmp').write_bytes(b'half')
    line = _run(voc, sbd, out, capsys)
    assert ' 3 written, 14 skipped' in line
    after = snapshot()   # the same bytes everywhere, the temporary file gone, only the missing files new
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    redone = {f'SegmentationClassAug/{S1}.png', f'SegmentationClassAug/{A}.png', 'cls_labels.npy'}
    assert {k for k in before if after[k][1] != before[k][1]} <= redone


def test_output_is_a_data_root(trees, tmp_path):
    """VOCDataset reads train_aug with SegmentationClassAug, with labels from cls_labels.npy, and val through the
    SegmentationClass link."""
    voc, sbd, expected = trees
    out = tmp_path / 'out'
    _run(voc, sbd, out)
    ds = VOCDataset(str(out), 'train_aug', mode='infer', ann_dir='SegmentationClassAug')
    assert ds.ids == TRAIN_AUG
    for k, image_id in enumerate(ds.ids):
        item = ds[k]
        assert item['image'].shape[:2] == expected[image_id].shape
        assert np.flatnonzero(item['cls_label']).tolist() == _labels(expected[image_id])
    ds_npy = VOCDataset(str(out), 'train_aug', mode='cam', ann_dir='SegmentationClassAug',
                        labels_file=str(out / 'cls_labels.npy'), transforms=dict(crop_size=16))
    for k, image_id in enumerate(ds_npy.ids):
        assert np.flatnonzero(ds_npy[(k, 0)]['cls_label'].numpy()).tolist() == _labels(expected[image_id])
    val = VOCDataset(str(out), 'val', mode='infer')
    assert val.ids == VOC_VAL and 255 in val.gt_mask(D)


def test_out_may_be_the_voc_root(trees, capsys):
    """--out VOC2012 (mmsegmentation's place): no links, VOC's own train/val lists untouched."""
    voc, sbd, _ = trees
    lists = voc / 'ImageSets' / 'Segmentation'
    (lists / 'train.txt').write_bytes(''.join(f'{i}\r\n' for i in VOC_TRAIN).encode())  # must not be rewritten
    stamp = (lists / 'train.txt').stat().st_mtime_ns
    _run(voc, sbd, voc)
    assert not (voc / 'JPEGImages').is_symlink() and not (voc / 'SegmentationClass').is_symlink()
    assert (lists / 'train.txt').read_bytes() == ''.join(f'{i}\r\n' for i in VOC_TRAIN).encode()
    assert (lists / 'train.txt').stat().st_mtime_ns == stamp
    assert (lists / 'trainaug.txt').read_text().split() == TRAIN_AUG
    ds = VOCDataset(str(voc), 'train_aug', mode='infer', ann_dir='SegmentationClassAug',
                    labels_file=str(voc / 'cls_labels.json'))
    assert len(ds) == 6
