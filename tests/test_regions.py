"""wsss.metrics.regions on hand-made arrays (numbers computed by hand in the comments)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from wsss.metrics.regions import RegionStats, region_stats
from wsss.utils.io import save_gray_png, save_label_png

# codes: 0 background, 1 context, 2 body, 3 part, 255 ignore
REG = np.array([[0, 0, 1, 1],
                [2, 2, 3, 255]], np.uint8)
GT = np.array([[0, 0, 0, 0],
               [5, 5, 5, 255]], np.uint8)
PRED = np.array([[0, 7, 3, 0],
                 [5, 255, 5, 5]], np.uint8)


def test_hand_computed():
    st = RegionStats()
    st.update(PRED, GT, REG)
    r = st.result()
    assert r['context_fg_rate'] == pytest.approx(1 / 2)  # (0,2)=3 fg, (0,3)=0
    assert r['background_fg_rate'] == pytest.approx(1 / 2)  # (0,1)=7 fg
    assert r['body_recall'] == pytest.approx(1 / 2)  # (1,1)=255 is not correct
    assert r['part_recall'] == pytest.approx(1.0)
    # valid = gt != 255 (7 px): pred fg at (0,1),(0,2),(1,0),(1,2) = 4, gt fg = 3, tp = 2
    assert r['fg_precision'] == pytest.approx(2 / 4)
    assert r['fg_recall'] == pytest.approx(2 / 3)
    assert r['num_images'] == 1 and r['n_body'] == 2 and r['n_part'] == 1

    # accumulate a second image: body correct, part predicted as the wrong class
    st.update(np.array([[1, 2]], np.uint8), np.array([[1, 1]], np.uint8), np.array([[2, 3]], np.uint8))
    r = st.result()
    assert r['body_recall'] == pytest.approx(2 / 3)
    assert r['part_recall'] == pytest.approx(1 / 2)
    assert r['fg_precision'] == pytest.approx(4 / 6)
    assert r['fg_recall'] == pytest.approx(4 / 5)
    assert r['context_fg_rate'] == pytest.approx(1 / 2)


def test_empty_and_shape_errors():
    st = RegionStats()
    st.update(np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.uint8))
    r = st.result()
    assert r['background_fg_rate'] == 0.0 and math.isnan(r['context_fg_rate']) and math.isnan(r['fg_recall'])
    with pytest.raises(ValueError, match='shapes'):
        st.update(np.zeros((2, 2), np.uint8), np.zeros((2, 3), np.uint8), np.zeros((2, 2), np.uint8))


def test_region_stats_files(tmp_path):
    root, pred_dir = tmp_path / 'voc', tmp_path / 'pred'
    save_label_png(root / 'SegmentationClass' / 'a.png', GT)
    save_gray_png(root / 'SyntheticRegions' / 'a.png', REG)
    save_label_png(pred_dir / 'a.png', PRED)
    r = region_stats(pred_dir, root, ['a'])
    assert r['fg_recall'] == pytest.approx(2 / 3) and r['context_fg_rate'] == pytest.approx(0.5)

    save_label_png(pred_dir / 'b.png', PRED)
    save_label_png(root / 'SegmentationClass' / 'b.png', GT)
    with pytest.raises(FileNotFoundError, match=r'SyntheticRegions.*b\.png'):
        region_stats(pred_dir, root, ['a', 'b'])
    with pytest.raises(FileNotFoundError, match=r'c\.png'):
        region_stats(pred_dir, root, ['c'])
    save_gray_png(root / 'SyntheticRegions' / 'b.png', np.zeros((3, 4), np.uint8))
    with pytest.raises(ValueError, match=r'b\.png'):
        region_stats(pred_dir, root, ['b'])
    save_label_png(pred_dir / 'b.png', np.zeros((2, 5), np.uint8))
    with pytest.raises(ValueError, match=r'pred.*b\.png'):
        region_stats(pred_dir, root, ['b'])
