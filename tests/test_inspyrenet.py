"""InSPyReNet: official state_dict compatibility, pyramid numerics, loss, forward, checkpoint errors."""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

from wsss.models.saliency import describe_backbone, inspyrenet_res2net50, inspyrenet_swinb, \
    load_inspyrenet_checkpoint
from wsss.models.saliency.losses import InSPyReNetLoss
from wsss.models.saliency.pyramid import ImagePyramid, Transition, ellipse_element, gaussian_taps
from wsss.utils.checkpoint import save_checkpoint_atomic
from keyfiles import read_key_file as _read



pytestmark = pytest.mark.usefixtures('one_thread')   # conftest.py



def read_key_file(name: str):
    return _read(f'inspyrenet_{name}')


def official_state_dict(name: str, seed: int = 0, like: dict | None = None) -> OrderedDict:
    """Random tensors with exactly the official names/shapes/dtypes (BN variances positive; int buffers copied
    from ``like`` when given, e.g. Swin's relative_position_index, else zeros)."""
    g = torch.Generator().manual_seed(seed)
    sd = OrderedDict()
    for key, shape, dtype in read_key_file(name):
        if dtype == torch.int64:
            t = like[key].clone() if like is not None and key in like else torch.zeros(shape, dtype=dtype)
        elif key.endswith('running_var'):
            t = torch.rand(shape, generator=g) + 0.5
        elif key.endswith(('bn.weight', 'norm.weight')) or '.bn' in key and key.endswith('weight'):
            t = torch.rand(shape, generator=g) + 0.5
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            t = torch.randn(shape, generator=g) * (1.0 / fan_in) ** 0.5 if len(shape) > 1 else \
                torch.randn(shape, generator=g) * 0.1
        sd[key] = t
    return sd


def tiny_model(base_size=(64, 64), **kw):
    """Fast Res2Net-structured InSPyReNet (1 block per stage, 8 base channels, depth 8)."""
    return inspyrenet_res2net50(base_size=base_size, depth=8, layers=[1, 1, 1, 1], base_channels=8, **kw)


# --------------------------------------------------------------------------- official checkpoints
def test_res2net50_official_keys_load_strict_and_forward_odd_size():
    model = inspyrenet_res2net50().eval()
    ref = read_key_file('res2net50')
    own = model.state_dict()
    assert [k for k, _, _ in ref] == list(own)  # same names, same registration order
    assert all(tuple(own[k].shape) == s and own[k].dtype == d for k, s, d in ref)
    sd = official_state_dict('res2net50')
    model.load_state_dict(sd, strict=True)
    assert describe_backbone(sd) == ('res2net', 'Res2Net-50')
    # non-square, width not a multiple of 4 (the official code fails here; see module docstring)
    x = torch.randn(1, 3, 200, 290)
    p = model.predict(x)
    assert p.shape == (1, 1, 200, 290) and torch.isfinite(p).all()
    assert float(p.min()) == pytest.approx(0.0, abs=1e-6) and float(p.max()) == pytest.approx(1.0, abs=1e-4)


def test_swinb_official_keys_load_strict_and_small_forward():
    model = inspyrenet_swinb().eval()
    ref = read_key_file('swinb')
    own = model.state_dict()
    assert [k for k, _, _ in ref] == list(own)
    assert all(tuple(own[k].shape) == s and own[k].dtype == d for k, s, d in ref)
    sd = official_state_dict('swinb', like=own)
    model.load_state_dict(sd, strict=True)
    assert describe_backbone(sd) == ('swin', 'Swin-B')
    p = model.predict(torch.randn(1, 3, 64, 96))
    assert p.shape == (1, 1, 64, 96) and torch.isfinite(p).all()


def test_pyramid_sizes_at_odd_input_size():
    with torch.no_grad():
        out = tiny_model().eval()(torch.randn(1, 3, 104, 146))
    assert [tuple(d.shape[-2:]) for d in out['saliency']] == [(13, 19), (26, 38), (52, 76), (104, 152)]
    assert [tuple(d.shape[-2:]) for d in out['laplacian']] == [(26, 37), (52, 73), (104, 146)]


def test_swin_feature_sizes_with_window_padding():
    from wsss.models.saliency.swin import SwinTransformerV1
    bb = SwinTransformerV1(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 2), window_size=12).eval()
    with torch.no_grad():
        feats = bb(torch.randn(1, 3, 61, 101))  # padded to the patch size, then to the window in each block
    assert [tuple(f.shape[1:]) for f in feats] == [(16, 16, 26), (16, 16, 26), (32, 8, 13), (64, 4, 7), (128, 2, 4)]
    assert bb.out_channels == [16, 16, 32, 64, 128] and bb.output_stride == 32


def test_kernels_are_not_in_state_dict():
    m = tiny_model()
    names = set(m.state_dict())
    assert not any(n.startswith(('image_pyramid', 'transition', 'criterion')) for n in names)
    buffers = dict(m.named_buffers())
    assert 'image_pyramid.kernel' in buffers and 'transition0.kernel' in buffers


# --------------------------------------------------------------------------- pyramid numerics
def test_gaussian_taps_pinned():
    g = gaussian_taps(7, 1.0)
    np.testing.assert_allclose(g, [0.0044330481, 0.0540055826, 0.2420362294, 0.3990502797, 0.2420362294,
                                   0.0540055826, 0.0044330481], atol=1e-9)
    assert g.sum() == pytest.approx(1.0, abs=1e-12)
    cv2 = pytest.importorskip('cv2')
    np.testing.assert_allclose(g, cv2.getGaussianKernel(7, 1).ravel(), atol=1e-15)
    k = ImagePyramid().kernel
    assert k.shape == (1, 1, 7, 7) and k.dtype == torch.float32
    np.testing.assert_allclose(k[0, 0].numpy(), np.outer(g, g).astype(np.float32))


def test_ellipse_elements_pinned():
    assert ellipse_element(5).tolist() == [[0, 0, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1],
                                           [0, 0, 1, 0, 0]]
    assert ellipse_element(17)[1].tolist() == [0] * 4 + [1] * 9 + [0] * 4
    cv2 = pytest.importorskip('cv2')
    for k in (3, 5, 9, 17, 21):
        assert (ellipse_element(k) == cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).all(), k


def test_reduce_expand_reconstruct():
    pyr = ImagePyramid().double()  # kernel values are float32-rounded (as in the official code): rel. 1e-6
    c = torch.full((1, 1, 16, 20), 0.7, dtype=torch.float64)
    r = pyr.reduce(c)
    assert r.shape == (1, 1, 8, 10)
    # taps sum to 1 and reflect padding keeps a constant
    torch.testing.assert_close(r, torch.full_like(r, 0.7), rtol=1e-6, atol=0)
    # expand of a constant is a period-2 pattern 4*(a|b)*(a|b), a / b = sum of even / odd taps; its reduce is
    # the constant times (2(a^2 + b^2))^2 = 1.00040..., i.e. the constant within 4e-4, everywhere
    g = gaussian_taps()
    a, b = g[1::2].sum(), g[0::2].sum()  # offsets -2, 0, 2 are taps 1, 3, 5
    e = pyr.expand(r)
    assert e.shape == (1, 1, 16, 20)
    assert float(e[0, 0, 4, 4]) == pytest.approx(0.7 * 4 * a * a, rel=1e-6)
    assert float(e[0, 0, 5, 5]) == pytest.approx(0.7 * 4 * b * b, rel=1e-6)
    re = pyr.reduce(e)
    factor = (2 * (a * a + b * b)) ** 2
    torch.testing.assert_close(re, torch.full_like(re, 0.7 * factor), rtol=1e-6, atol=0)
    assert abs(factor - 1) < 5e-4
    # Laplacian round trip: reconstruct(reduce(x), x - expand(reduce(x))) == x
    x = torch.rand(2, 1, 24, 32, dtype=torch.float64)
    low, lap = pyr.deconstruct(x)
    torch.testing.assert_close(pyr.reconstruct(low, lap), x)
    torch.testing.assert_close(lap, x - pyr.expand(pyr.reduce(x)))


def test_transition_on_a_step_edge():
    x = torch.full((1, 1, 12, 20), -10.0)
    x[..., 10:] = 10.0                            # vertical edge between columns 9 and 10
    for k, lo, hi in ((5, 8, 12), (9, 6, 14)):    # ellipse radius k // 2 on each side of the edge
        t = Transition(k)(x)
        cols = torch.nonzero(t[0, 0, 6]).flatten().tolist()
        assert cols == list(range(lo, hi)), (k, cols)
        assert (t[0, 0] == t[0, 0, 6]).all()      # every row alike (borders ignored, not zero-padded)


# --------------------------------------------------------------------------- loss
def test_loss_hand_computed_constant_maps():
    """gt = 1 on 16x16: G^j = 1, avgpool_31 (zero padding counted) = 256/961 everywhere, so w = 1 + 5*705/961;
    constant logits s_j: wBCE = -w log sig(s), IoU = 1 - (p+1)/(p+1-p+1) = (1-p)/2; PC = 1e-4 * (|0-1|+|1+1|+|-1-2|)."""
    crit = InSPyReNetLoss()
    gt = torch.ones(1, 1, 16, 16, dtype=torch.float64)
    s = [0.0, 1.0, -1.0, 2.0]  # d3, d2, d1, d0 on 2, 4, 8, 16 pixels per side
    sal = [torch.full((1, 1, 2 ** (i + 1), 2 ** (i + 1)), v, dtype=torch.float64) for i, v in enumerate(s)]
    out = crit(sal, gt)
    w = 1 + 5 * (705 / 961)

    def sig(v):
        return 1 / (1 + math.exp(-v))
    for name, v in zip(('d3', 'd2', 'd1', 'd0'), s):
        assert float(out[f'loss_sod_{name}']) == pytest.approx(-w * math.log(sig(v)) + (1 - sig(v)) / 2, rel=1e-6)
    assert float(out['loss_pc']) == pytest.approx(1e-4 * 6, rel=1e-6)
    assert set(out) == {'loss_sod_d3', 'loss_sod_d2', 'loss_sod_d1', 'loss_sod_d0', 'loss_pc'}


def test_loss_weight_map_and_soft_iou_by_hand():
    """One stage, 2x2 GT [[1, 0], [0, 0]] seen through the Gaussian pyramid of a 4x4 block image."""
    from wsss.models.saliency.losses import soft_iou_with_logits, weighted_bce_with_logits
    gt = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)[None, None]
    logit = torch.tensor([[2.0, -1.0], [0.0, 1.0]], dtype=torch.float64)[None, None]
    p = torch.sigmoid(logit)[0, 0].numpy()
    y = gt[0, 0].numpy()
    w = 1 + 5 * np.abs(y.sum() / 961 - y)  # every 31x31 window covers the whole 2x2 map
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(weighted_bce_with_logits(logit, gt)) == pytest.approx((w * bce).mean(), rel=1e-12)
    iou = 1 - (p * y + 1) / (p + y - p * y + 1)
    assert float(soft_iou_with_logits(logit, gt)) == pytest.approx(iou.mean(), rel=1e-12)


def test_tiny_model_loss_backward_and_stop_gradients():
    torch.manual_seed(0)
    m = tiny_model().train()
    x = torch.randn(2, 3, 64, 64)
    gt = (torch.rand(2, 1, 64, 64) > 0.5).float()
    losses = m.loss({'img': x, 'gt': gt})
    assert all(k.startswith('loss_') and torch.isfinite(v) for k, v in losses.items())
    sum(losses.values()).backward()
    assert [n for n, p in m.named_parameters() if p.grad is None] == []
    # stop-gradients: d3's last conv and Stage-2's Laplacian head do not receive the Stage-0 loss
    m.zero_grad(set_to_none=True)
    m.loss({'img': x, 'gt': gt})['loss_sod_d0'].backward()
    assert m.decoder.conv5.conv.weight.grad is None or m.decoder.conv5.conv.weight.grad.abs().max() == 0
    g = m.attention2.conv_out4.conv.weight.grad
    assert g is None or g.abs().max() == 0
    assert m.attention0.conv_out4.conv.weight.grad.abs().max() > 0


# --------------------------------------------------------------------------- checkpoint errors
def test_checkpoint_errors(tmp_path):
    model = tiny_model(base_size=(64, 64))
    ours = tmp_path / 'ours.pth'
    save_checkpoint_atomic({'state_dict': model.state_dict(), 'meta': model.checkpoint_meta()}, ours)
    # round trip + base size check
    m2 = tiny_model(base_size=(64, 64))
    assert load_inspyrenet_checkpoint(m2, ours)['base_size'] == [64, 64]
    with pytest.raises(ValueError, match=r'trained with base_size \[64, 64\] but base_size \[96, 96\]'):
        load_inspyrenet_checkpoint(tiny_model(base_size=(96, 96)), ours)
    # wrong keys: named in the error
    sd = model.state_dict()
    sd['decoder.conv5.conv.weigth'] = sd.pop('decoder.conv5.conv.weight')
    bad = tmp_path / 'bad.pth'
    save_checkpoint_atomic(sd, bad)
    with pytest.raises(RuntimeError, match=r'missing keys \[decoder\.conv5\.conv\.weight\].*unexpected keys '
                                           r'\[decoder\.conv5\.conv\.weigth\]'):
        load_inspyrenet_checkpoint(tiny_model(), bad)
    # wrong backbone: a Swin-B checkpoint (key layout only) into a Res2Net config
    swin_like = {'backbone.patch_embed.proj.weight': torch.zeros(128, 3, 4, 4),
                 'context1.branch0.conv.weight': torch.zeros(64, 128, 1, 1)}
    swin_like.update({f'backbone.layers.2.blocks.{j}.norm1.weight': torch.zeros(1) for j in range(18)})
    sw = tmp_path / 'swin.pth'
    save_checkpoint_atomic(swin_like, sw)
    with pytest.raises(RuntimeError, match='this is a Swin-B checkpoint but the config builds Res2Net'):
        load_inspyrenet_checkpoint(tiny_model(), sw)
    # backbone-only ImageNet weights
    imnet = tmp_path / 'res2net50_v1b_26w_4s.pth'
    save_checkpoint_atomic({'conv1.0.weight': torch.zeros(32, 3, 3, 3), 'fc.weight': torch.zeros(10, 2048)}, imnet)
    with pytest.raises(RuntimeError, match='backbone-only ImageNet weights'):
        load_inspyrenet_checkpoint(tiny_model(), imnet)


def check_autocast_predict(model, x: torch.Tensor, tol: float = 0.05) -> None:
    """``predict`` under bfloat16 autocast on CPU (the engine uses float16 on CUDA): float32, finite maps within
    ``tol`` (mean absolute difference) of the float32 ones."""
    ref = model.eval().predict(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = model.predict(x)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    assert (out - ref).abs().mean() < tol


def test_autocast_forward_is_finite_and_close():
    """Mixed precision path: dtypes line up, the float32 islands (SICA context, attention logits) keep it finite,
    and maps stay close to float32."""
    torch.manual_seed(0)
    check_autocast_predict(tiny_model(), torch.randn(2, 3, 64, 64))
