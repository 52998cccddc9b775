import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wsss.utils.io import save_gray_png, save_label_png
from wsss.report.visualize import HEADER, PAD, colorize_label, jet, load_cam


def _voc(tmp_path, ids=('a', 'b'), sizes=((20, 30), (24, 16))):
    root = tmp_path / 'VOC'
    (root / 'JPEGImages').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation' / 'val.txt').write_text('\n'.join(ids) + '\n')
    rng = np.random.default_rng(0)
    for i, (h, w) in zip(ids, sizes):
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(root / 'JPEGImages' / f'{i}.jpg')
        lab = np.zeros((h, w), np.uint8)
        lab[h // 2:] = 15
        lab[0] = 255
        save_label_png(root / 'SegmentationClass' / f'{i}.png', lab)
        save_label_png(tmp_path / 'pseudo' / f'{i}.png', lab)
        save_gray_png(root / 'sal' / f'{i}.png', rng.integers(0, 255, (h, w)))
    (tmp_path / 'cam').mkdir()
    np.save(tmp_path / 'cam' / 'a.npy', {3: rng.random((20, 30)), 7: rng.random((20, 30))}, allow_pickle=True)
    np.save(tmp_path / 'cam' / 'b.npy', rng.random((2, 12, 8)).astype(np.float32))   # half size -> resized
    return root


def test_helpers():
    lab = np.array([[0, 15, 255]], np.uint8)
    rgb = colorize_label(lab)
    assert rgb.tolist() == [[[0, 0, 0], [192, 128, 128], [255, 255, 255]]]
    j = jet(np.array([[0.0, 1.0]]))
    assert j[0, 0, 2] > 100 and j[0, 1, 0] > 100 and j[0, 0, 0] == 0


def test_load_cam_formats(tmp_path):
    np.save(tmp_path / 'x.npy', np.stack([np.full((4, 6), 2.0), np.full((4, 6), 4.0)]))
    c = load_cam(tmp_path / 'x.npy', (8, 12))
    assert c.shape == (8, 12) and np.allclose(c, 1.0)
    np.save(tmp_path / 'y.npy', {'keys': np.array([1]), 'high_res': np.arange(12.0).reshape(1, 3, 4)},
            allow_pickle=True)
    c = load_cam(tmp_path / 'y.npy')
    assert c.shape == (3, 4) and c.max() == 1.0 and c[0, 0] == 0
    np.save(tmp_path / 'z.npy', np.zeros((5,)))
    with pytest.raises(ValueError, match='z.npy'):
        load_cam(tmp_path / 'z.npy')


def test_tool_writes_grid_of_expected_size(tmp_path):
    root = _voc(tmp_path)
    spec = importlib.util.spec_from_file_location('visualize_tool',
                                                  Path(__file__).resolve().parents[1] / 'tools' / 'visualize.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'out' / 'grid.png'
    tile = 32
    assert tool.main(['--data-root', str(root), '--cam-dir', str(tmp_path / 'cam'), '--saliency-dir', 'sal',
                      '--pseudo-dir', str(tmp_path / 'pseudo'), '--tile', str(tile), '--out', str(out)]) == 0
    with Image.open(out) as im:
        # columns: image, CAM, saliency, pseudo-label, ground truth; rows: a, b (the val split)
        assert im.format == 'PNG' and im.mode == 'RGB'
        assert im.size == (5 * tile + 6 * PAD, HEADER + 2 * tile + 3 * PAD)
        grid = np.asarray(im)
    # the pseudo-label tile of row 'a' (30x20 fitted into 32x32: 32x21, top 255 row white, bottom class 15)
    x0, y0 = PAD + 3 * (tile + PAD), HEADER + PAD
    tile_px = grid[y0:y0 + tile, x0:x0 + tile]
    assert (tile_px == [192, 128, 128]).all(-1).any()
    assert (tile_px == [255, 255, 255]).all(-1).any()


def test_missing_files_are_named(tmp_path):
    from wsss.report.visualize import visualize_ids
    root = _voc(tmp_path)
    (tmp_path / 'pseudo' / 'b.png').unlink()
    with pytest.raises(FileNotFoundError, match=r"'b'.*pseudo"):
        visualize_ids(root, ['a', 'b'], pseudo_dir=tmp_path / 'pseudo')
    (root / 'SegmentationClass' / 'b.png').unlink()           # missing GT: blank tile, no error
    img = visualize_ids(root, ['a', 'b'], tile=16)
    assert img.size == (2 * 16 + 3 * PAD, HEADER + 2 * 16 + 3 * PAD)
    with pytest.raises(FileNotFoundError, match='prediction folder'):
        visualize_ids(root, ['a'], pred_dir=tmp_path / 'nope')
