import numpy as np
import pytest

from wsss.crf import CRFParams, crf_labels, dense_crf


def _two_regions(seed=0, h=32, w=40, flip=0.12):
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (30, 40, 50)
    img[:, w // 2:] = (200, 190, 180)
    truth = np.zeros((h, w), np.int64)
    truth[:, w // 2:] = 1
    noisy = truth.copy()
    wrong = rng.random((h, w)) < flip
    noisy[wrong] = 1 - noisy[wrong]
    p1 = np.where(noisy == 1, 0.65, 0.35).astype(np.float32)
    probs = np.stack([1 - p1, p1])
    return img, probs, truth


def test_presets():
    assert CRFParams.deeplab_v2() == CRFParams(10, 3, 1, 4, 67, 3)
    assert CRFParams.psa() == CRFParams(iterations=10, pos_w=3, pos_xy_std=3, bi_w=10, bi_xy_std=80, bi_rgb_std=13)


@pytest.mark.parametrize('params', [CRFParams.deeplab_v2(), CRFParams.psa()])
def test_crf_cleans_isolated_pixels(params):
    img, probs, truth = _two_regions()
    before = (probs.argmax(0) != truth).mean()
    q = dense_crf(img, probs, params)
    assert q.shape == probs.shape and q.dtype == np.float32
    np.testing.assert_allclose(q.sum(0), 1.0, atol=1e-4)
    after = (q.argmax(0) != truth).mean()
    assert before > 0.08 and after < before / 4, (before, after)
    np.testing.assert_array_equal(q, dense_crf(img, probs, params))   # deterministic


def test_crf_labels_maps_channels_and_checks_inputs():
    img, probs, truth = _two_regions(seed=1)
    lab = crf_labels(img, probs, [0, 15])
    assert lab.dtype == np.uint8 and lab.shape == truth.shape
    assert set(np.unique(lab)) <= {0, 15}
    assert ((lab == 15) == (truth == 1)).mean() > 0.95
    with pytest.raises(ValueError, match='channels'):
        crf_labels(img, probs, [0, 1, 2])
    with pytest.raises(ValueError, match='uint8'):
        dense_crf(img.astype(np.float32), probs)
    with pytest.raises(ValueError, match='probs'):
        dense_crf(img, probs[:, :10])
    # non-contiguous inputs are accepted
    q = dense_crf(img[:, ::-1], probs[:, :, ::-1])
    assert q.shape == probs.shape
