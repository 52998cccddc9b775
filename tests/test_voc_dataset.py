import numpy as np
import pytest
import torch
from PIL import Image

from wsss.datasets.voc import VOCDataset, labels_from_mask
from wsss.engine.trainer import collate
from wsss.saliency.sources import FolderSaliency, NoSaliency
from wsss.utils.io import read_label_png, save_gray_png, save_label_png


def test_reads_official_layout(tiny_voc):
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam', saliency=FolderSaliency(str(tiny_voc), 'saliency/good'),
                    transforms=dict(crop_size=32, flip=True))
    assert len(ds) == 3
    item = ds[(0, 123)]
    assert item['img'].shape == (3, 32, 32) and item['img'].dtype == torch.float32
    assert item['sal'].shape == (1, 32, 32) and 0 <= item['sal'].min() and item['sal'].max() <= 1
    mask = read_label_png(tiny_voc / 'SegmentationClass' / f'{ds.ids[0]}.png')
    assert set(np.unique(mask)) <= set(range(21)) | {255}
    assert 255 in mask  # the fixture has VOC-style ignore borders
    cls = int(np.flatnonzero(item['cls_label'].numpy())[0]) + 1
    assert cls in mask
    batch = collate([ds[(0, 1)], ds[(1, 1)]])
    assert batch['img'].shape == (2, 3, 32, 32) and len(batch['meta']) == 2


def test_same_seed_same_sample(tiny_voc):
    ds = VOCDataset(str(tiny_voc), 'train', mode='seg', label_dir='SegmentationClass',
                    transforms=dict(scale_range=(0.5, 1.5), crop_size=24, color_jitter=(0.3, 0.3, 0.3, 0.1)))
    a, b, c = ds[(1, 7)], ds[(1, 7)], ds[(1, 8)]
    assert torch.equal(a['img'], b['img']) and torch.equal(a['seg'], b['seg'])
    assert not torch.equal(a['img'], c['img'])
    assert set(a['seg'].unique().tolist()) <= set(range(21)) | {255}


def test_crop_pads_labels_with_ignore(tiny_voc):
    ds = VOCDataset(str(tiny_voc), 'train', mode='seg', label_dir='SegmentationClass',
                    transforms=dict(flip=False, crop_size=80))
    item = ds[(0, 0)]
    seg, img = item['seg'], item['img']
    assert seg.shape == (80, 80)
    assert (seg == 255).sum() >= 80 * 80 - 40 * 56


def test_crop_pads_the_image_with_the_mean(tiny_voc):
    """Padded pixels are the mean image: exactly zero after normalisation (official EPS / deeplab-pytorch);
    the image's own pixels keep their normalised values, the saliency pads with 0."""
    from wsss.utils.imaging import normalize
    src = FolderSaliency(str(tiny_voc), 'saliency/good')
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam', saliency=src, transforms=dict(flip=False, crop_size=80))
    img, sal = ds[(0, 0)]['img'], ds[(0, 0)]['sal'][0]
    raw = normalize(np.asarray(Image.open(tiny_voc / 'JPEGImages' / f'{ds.ids[0]}.jpg').convert('RGB')))
    inside = (img != 0).any(0)                   # the 40x56 image lands somewhere in the 80x80 crop
    ys, xs = np.nonzero(inside.numpy())
    y0, x0 = ys.min(), xs.min()
    torch.testing.assert_close(img[:, y0:y0 + 40, x0:x0 + 56], torch.from_numpy(raw))
    outside = torch.ones(80, 80, dtype=torch.bool)
    outside[y0:y0 + 40, x0:x0 + 56] = False
    assert outside.sum() == 80 * 80 - 40 * 56
    assert (img[:, outside] == 0).all() and (sal[outside] == 0).all()


def test_labels_from_mask_ignores_255():
    m = np.array([[0, 3, 255], [20, 3, 0]], np.uint8)
    lab = labels_from_mask(m)
    assert lab.sum() == 2 and lab[2] == 1 and lab[19] == 1


def test_missing_data_root_and_list(tmp_path, tiny_voc):
    with pytest.raises(FileNotFoundError, match='data root not found'):
        VOCDataset(str(tmp_path / 'nope'), 'train')
    with pytest.raises(FileNotFoundError, match='list file not found.*trainval.txt'):
        VOCDataset(str(tiny_voc), 'trainval')


def test_image_without_mask_is_named(tiny_voc):
    victim = (tiny_voc / 'ImageSets/Segmentation/train.txt').read_text().split()[1]
    (tiny_voc / 'SegmentationClass' / f'{victim}.png').unlink()
    with pytest.raises(FileNotFoundError, match=victim):
        VOCDataset(str(tiny_voc), 'train', mode='cam')


def test_label_value_out_of_range_is_named(tiny_voc):
    victim = (tiny_voc / 'ImageSets/Segmentation/train.txt').read_text().split()[0]
    bad = np.full((40, 56), 21, np.uint8)
    save_label_png(tiny_voc / 'SegmentationClass' / f'{victim}.png', bad)
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam')
    with pytest.raises(ValueError, match=rf'{victim}\.png: label values \[21\]'):
        ds[(0, 0)]


def test_saliency_missing_or_wrong_size_is_named(tiny_voc):
    src = FolderSaliency(str(tiny_voc), 'saliency/good')
    ids = (tiny_voc / 'ImageSets/Segmentation/train.txt').read_text().split()
    (tiny_voc / 'saliency/good' / f'{ids[0]}.png').unlink()
    save_gray_png(tiny_voc / 'saliency/good' / f'{ids[1]}.png', np.zeros((10, 10), np.uint8))
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam', saliency=src, transforms=dict(crop_size=16))
    with pytest.raises(FileNotFoundError, match=rf'saliency map missing: .*{ids[0]}\.png'):
        ds[(0, 0)]
    with pytest.raises(ValueError, match=rf'{ids[1]}\.png has size 10x10'):
        ds[(1, 0)]
    with pytest.raises(FileNotFoundError, match='saliency folder not found'):
        FolderSaliency(str(tiny_voc), 'saliency/poor')
    assert NoSaliency().load('x', (2, 2)) is None


def test_labels_file_for_images_without_masks(tiny_voc, tmp_path):
    import json
    ids = (tiny_voc / 'ImageSets/Segmentation/train.txt').read_text().split()
    for i in ids:
        (tiny_voc / 'SegmentationClass' / f'{i}.png').unlink()
    lf = tmp_path / 'cls_labels.json'
    lf.write_text(json.dumps({i: [0, 14] for i in ids}))
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam', labels_file=str(lf), transforms=dict(crop_size=16))
    lab = ds[(0, 0)]['cls_label']
    assert lab[0] == 1 and lab[14] == 1 and lab.sum() == 2
    assert Image.open(tiny_voc / 'JPEGImages' / f'{ids[0]}.jpg').size == (56, 40)


def test_labels_file_relative_to_the_data_root_and_irn_integer_keys(tiny_voc):
    from wsss.datasets.voc import load_labels_file
    ids = (tiny_voc / 'ImageSets' / 'Segmentation' / 'train.txt').read_text().split()
    labels = {int(i.replace('_', '')): np.eye(20, dtype=np.float32)[k] for k, i in enumerate(ids)}   # IRN layout
    np.save(tiny_voc / 'cls_labels_irn.npy', labels)
    loaded = load_labels_file(tiny_voc / 'cls_labels_irn.npy')
    assert sorted(loaded) == sorted(ids) and loaded[ids[1]][1] == 1
    ds = VOCDataset(str(tiny_voc), 'train', mode='cam', labels_file='cls_labels_irn.npy', require_masks=False,
                    transforms=dict(crop_size=16))
    assert ds.cls_label(ids[2])[2] == 1


def test_outputs_are_ordinary_files(tmp_path):
    import os
    from wsss.utils.io import save_label_png
    save_label_png(tmp_path / 'a.png', np.zeros((4, 4), np.uint8))
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / 'a.png').stat().st_mode & 0o777 == 0o666 & ~umask
