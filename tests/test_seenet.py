"""SeeNet pieces pinned on hand-computed numbers: attention, ternary mask, C-ReLU, S_C, test-time fusion."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.cam.seenet import background_mask, c_relu, fuse_max, minmax_normalize, seenet_attention, \
    ternary_mask
from wsss.pseudo.cam_infer import multiscale_cam
import support_models  # noqa: F401  (registers the tiny test backbones)
from wsss.registry import CAM_MODELS


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


# S_A class maps (1, 3, 2, 2); labels: c0, c1 present, c2 absent
SCORES = torch.stack([t([[-1, 0], [2, 4]]),       # clamp -> [[0,0],[2,4]] -> minmax [[0,0],[.5,1]]
                      t([[3, 1], [1, 1]]),        # minmax (x-1)/2 -> [[1,0],[0,0]]
                      t([[99, 99], [0, 99]])])[None]   # absent: ignored
LABEL = t([[1, 1, 0]])
M = t([[1, 0], [0.5, 1]])[None, None]


def test_attention_is_max_of_minmax_present_classes():
    att = seenet_attention(SCORES, LABEL)
    torch.testing.assert_close(att, M, atol=1e-7, rtol=0)
    assert not seenet_attention(SCORES.clone().requires_grad_(True), LABEL).requires_grad
    torch.testing.assert_close(minmax_normalize(t([[[[2, 4], [6, 10]]]])), t([[[[0, .25], [.5, 1]]]]), atol=1e-8,
                               rtol=0)


def test_ternary_mask_values_and_relative_thresholds():
    # delta_h = 0.7 * max(M) = 0.7, delta_l = 0.05: M=1 -> 0 (erased), M=0 -> -1 (background), M=0.5 -> 1
    expected = t([[0, -1], [1, 0]])[None, None]
    torch.testing.assert_close(ternary_mask(M, 0.7, 0.05), expected)
    # thresholds are relative to the map's maximum
    torch.testing.assert_close(ternary_mask(0.5 * M, 0.7, 0.05), expected)
    # official Caffe deploy thresholds (0.8 / 0.0): no background zone
    torch.testing.assert_close(ternary_mask(M, 0.8, 0.0), t([[0, 1], [1, 0]])[None, None])


def test_c_relu_values_and_gradient():
    tern = ternary_mask(M)
    x = torch.stack([t([[-2, 3], [4, -5]]), t([[1, 1], [1, 1]])])[None].requires_grad_(True)
    y = c_relu(x, tern)
    # max(x, 0) * T:  ch0 [[0,3],[4,0]] * [[0,-1],[1,0]];  ch1 ones * T
    torch.testing.assert_close(y.detach(), torch.stack([t([[0, -3], [4, 0]]), t([[0, -1], [1, 0]])])[None])
    y.sum().backward()
    # d/dx = T * 1[x > 0]: zero in the erased zone, negated in the background zone
    torch.testing.assert_close(x.grad, torch.stack([t([[0, -1], [1, 0]]), t([[0, -1], [1, 0]])])[None])


def test_background_mask_single_threshold():
    # (0.7 + 0.05) / 2 = 0.375: only M = 0 is background
    torch.testing.assert_close(background_mask(M), t([[0, 1], [0, 0]])[None, None])
    torch.testing.assert_close(background_mask(t([[0.37, 0.38], [1, 0]])[None, None]), t([[1, 0], [0, 1]])[None, None])


def test_test_time_fusion_max_of_minmax():
    a = t([[0, 2], [4, -1]])[None, None]      # clamp [[0,2],[4,0]] -> /4 -> [[0,.5],[1,0]]
    b = t([[2, 1], [1, 1]])[None, None]       # minmax (x-1)/1 -> [[1,0],[0,0]]
    torch.testing.assert_close(fuse_max(a, b), t([[1, .5], [1, 0]])[None, None], atol=1e-7, rtol=0)



def _seenet(**kw):
    torch.manual_seed(0)
    return CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='TinyCAMTestBackbone'), num_classes=3,
                                 head=dict(type='SeeNetHead', num_convs=1, channels=5, dropout=0.0, **kw)))


def test_model_wires_masks_and_s_c_target():
    model = _seenet().eval()
    img = torch.randn(2, 3, 12, 12, generator=torch.Generator().manual_seed(3))
    lab = t([[1, 0, 1], [0, 1, 0]]).float()
    with torch.no_grad():
        out = model(img, lab)
        x = model.backbone(img)[-1]
        att = seenet_attention(out['cam'], lab)
        torch.testing.assert_close(out['att'], att)
        torch.testing.assert_close(out['ternary'], ternary_mask(att, 0.7, 0.05))
        torch.testing.assert_close(out['cam_b'], model.head.fc8_b(torch.relu(x) * out['ternary']))
        torch.testing.assert_close(out['cam_c'], model.head.fc8_c(torch.relu(x) * background_mask(att, 0.7, 0.05)))
        losses = model.loss(dict(img=img, cls_label=lab))
        # S_C target: the all-zero vector over every class -> mean_k softplus(z_k) of the GAP logits
        z_c = out['cam_c'].mean((2, 3))
        torch.testing.assert_close(losses['loss_cls_c'], F.softplus(z_c).mean())
        torch.testing.assert_close(losses['loss_cls_b'],
                                   F.multilabel_soft_margin_loss(out['cam_b'].mean((2, 3)), lab))
        # test-time rule
        torch.testing.assert_close(model.cam_maps(img, lab), fuse_max(out['cam'], out['cam_b']))


def test_configurable_thresholds_change_the_mask():
    model = _seenet(delta_h=0.8, delta_l=0.0).eval()
    img = torch.randn(1, 3, 12, 12, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        out = model(img, t([[1, 1, 0]]).float())
    assert not (out['ternary'] == -1).any()          # delta_l = 0: no background zone
    torch.testing.assert_close(out['ternary'], ternary_mask(out['att'], 0.8, 0.0))


def test_cam_maps_without_labels_uses_predicted_classes():
    model = _seenet().eval()
    img = torch.randn(1, 3, 12, 12)
    with torch.no_grad():
        maps = model.cam_maps(img)
        z = model(img)['cam'].mean((2, 3))
        pred = (torch.sigmoid(z) > 0.5).float()
        if pred.sum() == 0:
            pred = F.one_hot(z.argmax(1), 3).float()
        torch.testing.assert_close(maps, model.cam_maps(img, pred))


class _RampModel(nn.Module):
    """cam_maps ignores the image: class 0 is a left-to-right ramp; flip_fusion 'max'."""
    flip_fusion = 'max'

    def cam_maps(self, img):
        b, _, h, w = img.shape
        ramp = torch.arange(w, dtype=torch.float32).expand(b, 1, h, w)
        return torch.cat([ramp, torch.zeros_like(ramp)], 1)


def test_multiscale_max_fusion_unflips():
    img = np.zeros((4, 6, 3), np.uint8)
    out = multiscale_cam(_RampModel(), img, scales=(1.0,), flip=True)
    ramp = np.arange(6, dtype=np.float32)
    # pass 1: ramp; pass 2 (flipped input) un-flipped: reversed ramp; fused by max
    np.testing.assert_allclose(out[0], np.broadcast_to(np.maximum(ramp, ramp[::-1]), (4, 6)))
    out_sum = multiscale_cam(_RampModel(), img, scales=(1.0,), flip=True, fusion='sum')
    np.testing.assert_allclose(out_sum[0], np.broadcast_to(ramp + ramp[::-1], (4, 6)))
    assert out.dtype == np.float32 and out.shape == (2, 4, 6)
    with pytest.raises(ValueError):
        multiscale_cam(_RampModel(), img.astype(np.float32))
