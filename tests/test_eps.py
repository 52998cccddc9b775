"""EPS saliency loss pinned on hand-computed numbers (official ``eps.py::get_eps_loss`` rule)."""
import pytest
import torch

from wsss.models.cam.eps_loss import EPSSaliencyLoss, eps_overlap_ratio, eps_saliency_loss
from wsss.registry import LOSSES

# 3 foreground classes + background (last), 2x2 map. Pixel order (0,0), (0,1), (1,0), (1,1).
#            c0    c1    c2    bg
P = [[0.7, 0.1, 0.1, 0.1],
     [0.25, 0.1, 0.55, 0.1],
     [0.1, 0.6, 0.1, 0.2],
     [0.2, 0.1, 0.1, 0.6]]
SAL = [0.9, 0.8, 0.1, 0.3]          # round -> 1, 1, 0, 0
LABEL = [1.0, 1.0, 0.0]             # c0, c1 present; c2 absent


def _probs():
    return torch.tensor(P, dtype=torch.float64).T.reshape(1, 4, 2, 2)


def _sal():
    return torch.tensor(SAL, dtype=torch.float64).reshape(1, 1, 2, 2)


def _label():
    return torch.tensor([LABEL], dtype=torch.float64)


def test_overlap_ratio_hand_computed():
    o = eps_overlap_ratio(_probs()[:, :3], _sal())
    # c0: round(p) = [1,0,0,0], ∧ round(S) = 1 -> 1 / (1 + 4 pixels * 1e-4)   (official per-pixel 1e-4)
    # c1: round(p) = [0,0,1,0] -> 0;  c2: round(p) = [0,1,0,0] -> 1 / 1.0004
    expected = torch.tensor([[1 / 1.0004, 0.0, 1 / 1.0004]], dtype=torch.float64)
    torch.testing.assert_close(o, expected, rtol=1e-12, atol=0)
    assert abs(o[0, 0].item() - 1 / 1.0001) > 1e-5   # not |M_k| + 1e-4


def test_fg_bg_split_and_loss_hand_computed():
    loss, fg, one_minus_bg, sal_pred = eps_saliency_loss(_probs(), _sal(), _label(), tau=0.4, lam=0.5,
                                                         return_intermediates=True)
    # FG = {c0} (present, O=0.9996 > 0.4); BG = {bg, c1} (c1 present but O=0 <= 0.4); c2 absent: neither,
    # although its overlap (0.9996) passes tau (0.55 rounds to 1; note torch.round(0.5) = 0).
    torch.testing.assert_close(fg.flatten(), torch.tensor([0.7, 0.25, 0.1, 0.2], dtype=torch.float64))
    torch.testing.assert_close(one_minus_bg.flatten(), torch.tensor([0.8, 0.8, 0.2, 0.3], dtype=torch.float64))
    # sal_pred = 0.5 * fg + 0.5 * (1 - bg)
    torch.testing.assert_close(sal_pred.flatten(), torch.tensor([0.75, 0.525, 0.15, 0.25], dtype=torch.float64))
    # MSE vs [0.9, 0.8, 0.1, 0.3]: (0.15² + 0.275² + 0.05² + 0.05²) / 4
    assert loss.item() == pytest.approx((0.0225 + 0.075625 + 0.0025 + 0.0025) / 4, abs=1e-12)


def test_present_class_failing_tau_goes_to_background():
    # tau above every overlap: FG empty, BG = {bg, c0, c1}; 1 - bg = p_c2 (the absent class only)
    _, fg, one_minus_bg, sal_pred = eps_saliency_loss(_probs(), _sal(), _label(), tau=0.9999, lam=0.5,
                                                      return_intermediates=True)
    torch.testing.assert_close(fg.flatten(), torch.zeros(4, dtype=torch.float64))
    torch.testing.assert_close(one_minus_bg.flatten(), torch.tensor([0.1, 0.55, 0.1, 0.1], dtype=torch.float64))
    torch.testing.assert_close(sal_pred.flatten(), torch.tensor([0.05, 0.275, 0.05, 0.05], dtype=torch.float64))


def test_lambda_blends_and_saliency_downsampled_nearest():
    sal4 = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    sal4[0, 0, ::2, ::2] = _sal()[0, 0]          # nearest 4x4 -> 2x2 keeps the even rows/cols
    sal4[0, 0, 1::2, :] = 0.77                   # never sampled
    sal4[0, 0, :, 1::2] = 0.77
    loss, fg, omb, sal_pred = eps_saliency_loss(_probs(), sal4, _label(), tau=0.4, lam=0.9,
                                                return_intermediates=True)
    torch.testing.assert_close(sal_pred, 0.9 * fg + 0.1 * omb)
    torch.testing.assert_close(loss, ((sal_pred - _sal()) ** 2).mean())


def test_module_applies_softmax_and_gradient_skips_overlap():
    logits = _probs().log().float().requires_grad_(True)
    mod = LOSSES.build(dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5))
    assert isinstance(mod, EPSSaliencyLoss)
    loss = mod(logits, _sal().float(), _label().float())
    assert loss.item() == pytest.approx(0.02578125, abs=1e-6)
    loss.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    # from_probs equals forward on softmax
    loss_p = mod.from_probs(_probs().float(), _sal().float(), _label().float())
    assert loss_p.item() == pytest.approx(0.02578125, abs=1e-6)
