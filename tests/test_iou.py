import math

import numpy as np
import pytest
import torch

from wsss.metrics.iou import ConfusionMatrix, areas_from_confusion, confusion_matrix


def test_hand_computed_3x3():
    gt = np.array([[0, 0, 1, 1], [2, 2, 255, 1]])
    pred = np.array([[0, 1, 1, 1], [2, 0, 2, 255]])
    m = confusion_matrix(pred, gt, num_classes=3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    assert m.dtype == np.int64
    ext = confusion_matrix(pred, gt, num_classes=3, extended=True)
    assert ext.shape == (4, 4) and ext[1, 3] == 1 and ext.sum() == 7   # pred 255 on GT 1; GT 255 dropped
    inter, union, parea, garea = areas_from_confusion(ext, 3)
    np.testing.assert_array_equal(inter, [1, 2, 1])
    np.testing.assert_array_equal(garea, [2, 3, 2])
    np.testing.assert_array_equal(parea, [2, 3, 1])
    np.testing.assert_array_equal(union, [3, 4, 2])
    res = ConfusionMatrix(3, class_names=['a', 'b', 'c']).update(pred, gt).compute()
    assert res['IoU'] == {'a': 33.33, 'b': 50.0, 'c': 50.0}
    assert res['mIoU'] == 44.44 and res['mAcc'] == 55.56 and res['aAcc'] == 57.14
    assert math.isclose(res['raw']['mIoU'], (1 / 3 + 0.5 + 0.5) / 3)
    assert res['num_images'] == 1


def _random_maps(rng, n, k, h=13, w=17):
    """Maps with 255 in GT and prediction, an out-of-range prediction value and class k-1 absent."""
    out = []
    for _ in range(n):
        gt = rng.integers(0, k - 1, size=(h, w))
        pred = np.where(rng.random((h, w)) < 0.6, gt, rng.integers(0, k - 1, size=(h, w)))
        gt[rng.random((h, w)) < 0.15] = 255
        pred[rng.random((h, w)) < 0.1] = 255
        pred[0, 0] = k + 3
        out.append((pred, gt))
    return out


def test_matches_mmseg_iou_metric():
    from mmseg.evaluation.metrics.iou_metric import IoUMetric
    k = 6
    rng = np.random.default_rng(0)
    maps = _random_maps(rng, 5, k)
    names = [f'c{i}' for i in range(k)]

    metric = IoUMetric(ignore_index=255)
    metric.dataset_meta = {'classes': names}
    cm = ConfusionMatrix(k, class_names=names)
    for pred, gt in maps:
        sample = {'pred_sem_seg': {'data': torch.from_numpy(pred)[None]},
                  'gt_sem_seg': {'data': torch.from_numpy(gt)[None]}}
        metric.process({}, [sample])
        cm.update(pred, gt)
    ref = metric.compute_metrics(metric.results)

    # per-class totals and raw metrics against mmseg's own static functions
    totals = [sum(r[i] for r in metric.results) for i in range(4)]
    for mine, theirs in zip(cm.areas(), totals):
        np.testing.assert_array_equal(mine, theirs.numpy().astype(np.int64))
    raw = IoUMetric.total_area_to_metrics(*totals, metrics=['mIoU'])
    np.testing.assert_allclose(np.array(cm.compute()['raw']['IoU'][:k - 1]), raw['IoU'][:k - 1], rtol=1e-6)
    assert np.isnan(raw['IoU'][k - 1])

    res = cm.compute()
    assert res['IoU'][f'c{k - 1}'] is None            # absent class: NaN, excluded from the mean
    for key in ('mIoU', 'aAcc', 'mAcc'):
        # mmseg rounds float32 values (47.44 -> 47.439998...); we compute in float64
        assert res[key] == pytest.approx(float(ref[key]), abs=1e-4), key
    assert res['num_images'] == 5


def test_torch_batch_merge_and_all_reduce_noop():
    k = 5
    rng = np.random.default_rng(1)
    maps = _random_maps(rng, 4, k, 8, 8)
    a = ConfusionMatrix(k)
    for pred, gt in maps:
        a.update(pred, gt)
    preds = torch.from_numpy(np.stack([p for p, _ in maps]))
    gts = torch.from_numpy(np.stack([g for _, g in maps]))
    b = ConfusionMatrix(k).update(preds[:2], gts[:2])
    c = ConfusionMatrix(k).update(preds[2:], gts[2:])
    b.merge(c).all_reduce()
    np.testing.assert_array_equal(a.hist, b.hist)
    assert b.num_images == 4
    t = confusion_matrix(preds, gts, k)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.int64
    np.testing.assert_array_equal(t.numpy(), a.matrix)
    assert a.compute() == b.compute()


def test_shape_mismatch_and_empty():
    with pytest.raises(ValueError, match='shape'):
        confusion_matrix(np.zeros((2, 3)), np.zeros((3, 2)))
    res = ConfusionMatrix(21).compute()
    assert res['mIoU'] is None and res['IoU']['background'] is None
