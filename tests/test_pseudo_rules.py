"""Pseudo-label rules on hand-computed arrays."""
import numpy as np
import pytest

from wsss.pseudo.rules import EPSRule, normalize_cams
from wsss.registry import PSEUDO_RULES


def f32(rows):
    return np.asarray(rows, np.float32)


# 3 classes on a 2x3 image; c0, c1 present, c2 absent (large values that must never show up)
CAMS = np.stack([f32([[0, 1, 2], [4, 0, 0]]),          # / (4 + 1e-5)  -> ~[[0,.25,.5],[1,0,0]]
                 f32([[2, 2, 0], [0, 0.2, 2]]),        # / (2 + 1e-5)  -> ~[[1,1,0],[0,.1,1]]
                 f32([[9, 9, 9], [9, 9, 9]])])
LABEL = np.array([1, 1, 0], np.float32)


def test_eps_rule_hand_computed():
    rule = PSEUDO_RULES.build(dict(type='EPSRule', bg_score=0.2))
    assert isinstance(rule, EPSRule)
    label, probs = rule(CAMS, LABEL, None)
    # argmax over [0.2, c0, c1] -> 0 / 1 / 2; (1,1): c1 = 0.1 < 0.2 -> background; absent c2 never wins
    np.testing.assert_array_equal(label, np.array([[2, 2, 1], [1, 0, 2]], np.uint8))
    assert label.dtype == np.uint8 and probs.dtype == np.float32 and probs.shape == (3, 2, 3)
    # probs: [0.2, N_c0, N_c1] / sum ; pixel (0,2): N_c0 = 2 / (4 + 1e-5)
    n = 2 / (4 + 1e-5)
    np.testing.assert_allclose(probs[:, 0, 2], [0.2 / (0.2 + n), n / (0.2 + n), 0.0], rtol=1e-6)
    np.testing.assert_allclose(probs.sum(0), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(np.array([0, 1, 2])[probs.argmax(0)], label)   # present = c0, c1


def test_eps_rule_epsilon_and_ties_and_no_ignore():
    # a class whose max is 1e-5: N = 1e-5 / (1e-5 + 1e-5) = 0.5 (the +1e-5 of official infer.py)
    cams = np.stack([f32([[1e-5, 0.0]]), f32([[0.0, 0.0]])])
    _, norm = normalize_cams(cams, np.array([1, 0]))
    np.testing.assert_allclose(norm[0], [[0.5, 0.0]], rtol=1e-6)
    label, _ = EPSRule(0.2)(cams, np.array([1, 0]))
    np.testing.assert_array_equal(label, [[1, 0]])
    # ties: equal scores -> the lower index (background first, then the lower class), like np.argmax
    cams = np.stack([f32([[1, 1, 0.25]]), f32([[1, 0.5, 0.25]])])
    label, _ = EPSRule(0.25 / (1 + 1e-5))(cams, np.array([1, 1]))
    np.testing.assert_array_equal(label, [[1, 1, 0]])
    assert 255 not in EPSRule(0.2)(CAMS, LABEL)[0]


def test_saliency_proxy_rule_hand_computed():
    cams = np.stack([np.zeros((2, 3), np.float32),
                     f32([[1.0, 1.0, 0.1], [0.1, 0.6, 0.3]]),      # c1 present -> label 2
                     np.full((2, 3), 5, np.float32)])              # absent
    sal = f32([[0.8, 0.2, 0.9], [0.1, 0.3, 0.5]])
    rule = PSEUDO_RULES.build(dict(type='SaliencyProxyRule', sal_thr=0.5, fg_thr=0.2, conflict_thr=0.5))
    label, probs = rule(cams, np.array([0, 1, 0]), sal)
    # (0,0) salient + A=1    -> 2 | (0,1) not salient, A=1 > .5 -> 255 | (0,2) salient, A=.1 <= .2 -> 255
    # (1,0) not salient, A=.1 -> 0 | (1,1) not salient, A=.6 > .5 -> 255 | (1,2) S=.5 salient, A=.3 -> 2
    np.testing.assert_array_equal(label, np.array([[2, 255, 255], [0, 255, 2]], np.uint8))
    a = 1 / (1 + 1e-5)
    np.testing.assert_allclose(probs[:, 0, 0], [0.2 / (0.2 + 0.8 * a), 0.8 * a / (0.2 + 0.8 * a)], rtol=1e-6)
    np.testing.assert_allclose(probs.sum(0), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match='saliency'):
        rule(cams, np.array([0, 1, 0]), None)


def test_saliency_proxy_rule_relative_shares_the_salient_mass():
    # two present classes; pixel (0,2) is salient but barely attended (N = .02 and .06 after normalisation)
    cams = np.stack([f32([[1.0, 0.0, 0.02]]), f32([[0.0, 1.0, 0.06]])])
    sal = f32([[0.9, 0.9, 0.9]])
    plain = PSEUDO_RULES.build(dict(type='SaliencyProxyRule'))
    rel = PSEUDO_RULES.build(dict(type='SaliencyProxyRule', relative=True))
    lab_p, probs_p = plain(cams, np.array([1, 1]), sal)
    lab_r, probs_r = rel(cams, np.array([1, 1]), sal)
    np.testing.assert_array_equal(lab_p, lab_r)  # the labels do not change, only the CRF's probs
    np.testing.assert_array_equal(lab_r, np.array([[1, 2, 255]], np.uint8))
    # plain: [0.1, 0.9*0.02, 0.9*0.06] -> background wins at (0,2); relative: [0.1, 0.9*0.25, 0.9*0.75]
    assert probs_p[:, 0, 2].argmax() == 0
    np.testing.assert_allclose(probs_r[:, 0, 2], [0.1, 0.9 * 0.25, 0.9 * 0.75], rtol=1e-5)
    np.testing.assert_allclose(probs_r[:, 0, 0], [0.1, 0.9, 0.0], atol=1e-6)
    assert 'relative=True' in repr(rel)


def test_no_present_class_gives_background():
    label, probs = EPSRule()(CAMS, np.zeros(3))
    assert (label == 0).all() and probs.shape == (1, 2, 3)
