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


# ------------------------------------------------------------------ label folders
def _voc(tmp_path, n=3, h=12, w=10):
    from PIL import Image
    from wsss.utils.io import save_label_png
    rng = np.random.default_rng(2)
    root = tmp_path / 'VOC'
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    (root / 'JPEGImages').mkdir()
    ids = [f'img{i}' for i in range(n)]
    (root / 'ImageSets' / 'Segmentation' / 'train.txt').write_text('\n'.join(ids) + '\n')
    gts, preds = [], []
    for i in ids:
        gt = rng.integers(0, 4, size=(h, w)).astype(np.uint8)
        gt[0] = 255
        pred = np.where(rng.random((h, w)) < 0.7, gt, 2).astype(np.uint8)
        pred[pred == 255] = 0
        pred[-1, -1] = 255
        save_label_png(root / 'SegmentationClass' / f'{i}.png', gt)
        save_label_png(tmp_path / 'pred' / f'{i}.png', pred)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(root / 'JPEGImages' / f'{i}.jpg')
        gts.append(gt)
        preds.append(pred)
    return root, ids, preds, gts


def test_eval_labels_tool_writes_metrics(tmp_path, capsys):
    import json

    from tools_cli import load_tool
    from wsss.engine.records import read_record
    eval_labels = load_tool('eval_labels')
    root, ids, preds, gts = _voc(tmp_path)
    assert eval_labels.main([str(tmp_path / 'pred'), '--data-root', str(root), '--split', 'train']) == 0
    rec = read_record(tmp_path / 'pred')
    doc = rec.section('labels')
    ref = ConfusionMatrix(21)
    for p, g in zip(preds, gts):
        ref.update(p, g)
    ref = ref.compute()
    assert doc['mIoU'] == ref['mIoU'] and doc['num_images'] == 3 and rec.inputs['split'] == 'train'
    assert rec.stage == 'eval_labels' and rec.name == 'pred'
    assert list(doc['IoU'])[:2] == ['background', 'aeroplane'] and doc['IoU']['tvmonitor'] is None
    assert 'mIoU' in capsys.readouterr().out
    # merged as a section of another file
    out = tmp_path / 'run' / 'metrics.json'
    eval_labels.main([str(tmp_path / 'pred'), '--data-root', str(root), '--out', str(out), '--section', 'pseudo'])
    assert json.loads(out.read_text())['sections']['pseudo']['mIoU'] == ref['mIoU']


def test_eval_labels_errors(tmp_path):
    from PIL import Image
    from wsss.metrics.label_dirs import evaluate_label_dir
    from wsss.utils.io import save_label_png
    root, ids, _, _ = _voc(tmp_path)
    gt_dir = root / 'SegmentationClass'
    with pytest.raises(FileNotFoundError, match=r'4 missing files[\s\S]*nope1\.png[\s\S]*nope2\.png'):
        evaluate_label_dir(tmp_path / 'pred', gt_dir, ids[:1] + ['nope1', 'nope2'])
    save_label_png(tmp_path / 'pred' / 'img1.png', np.zeros((5, 5), np.uint8))
    with pytest.raises(ValueError, match=r'img1\.png: size 5x5'):
        evaluate_label_dir(tmp_path / 'pred', gt_dir, ids)
    Image.fromarray(np.full((12, 10), 40, np.uint8), mode='L').save(tmp_path / 'pred' / 'img1.png')
    with pytest.raises(ValueError, match=r'img1\.png: label values \[40\]'):
        evaluate_label_dir(tmp_path / 'pred', gt_dir, ids)


def test_validate_label_dir(tmp_path):
    from PIL import Image
    from wsss.metrics.label_dirs import LabelDirError, validate_label_dir
    root, ids, _, _ = _voc(tmp_path)
    validate_label_dir(tmp_path / 'pred', ids)                       # valid: no error
    d = tmp_path / 'pred'
    Image.fromarray(np.full((4, 4), 21, np.uint8), mode='L').save(d / 'img0.png')
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(d / 'img1.png')
    many = [f'm{i}' for i in range(25)]
    with pytest.raises(LabelDirError) as e:
        validate_label_dir(d, ids + many)
    msg = str(e.value)
    assert '25 missing files' in msg and 'm19.png' in msg and 'm20.png' not in msg and '5 more' in msg
    assert '2 invalid files' in msg and 'img0.png: label values [21]' in msg
    assert 'img1.png: expected a palette or grey label PNG, got mode RGB' in msg
    with pytest.raises(LabelDirError, match='not found'):
        validate_label_dir(tmp_path / 'absent', ids)
