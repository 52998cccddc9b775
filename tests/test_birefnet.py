"""BiRefNet: official state_dict compatibility (Swin-L, Swin-T), checkpoint formats and errors, forward sizes,
loss terms against independent computations, training on a tiny model."""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from keyfiles import read_key_file
from test_inspyrenet import check_autocast_predict
from wsss.models.saliency import BiRefNet, BiRefNetLoss, DeformableConv2d, load_birefnet_checkpoint
from wsss.models.saliency.birefnet import image_to_patches
from wsss.models.saliency.birefnet_loss import image_gradient, laplacian_kernel
from wsss.registry import SALIENCY_MODELS
from wsss.utils.checkpoint import save_checkpoint_atomic, save_checkpoint_file

pytestmark = pytest.mark.usefixtures('one_thread')   # conftest.py

TINY_SWIN = dict(type='SwinTransformerV1', embed_dim=32, depths=(1, 1, 2, 1), num_heads=(1, 2, 4, 8),
                 window_size=4)


@pytest.fixture(scope='module')
def models():
    """The two released configurations, built once. Swin-L is built on the 'meta' device and given uninitialised
    CPU memory (its random initialisation takes ~10 s here; these tests only load weights into it)."""
    with torch.device('meta'):
        large = SALIENCY_MODELS.build(dict(type='BiRefNet_SwinV1L'))
    return {'swin_v1_l': large.to_empty(device='cpu'),
            'swin_v1_t': SALIENCY_MODELS.build(dict(type='BiRefNet_SwinV1T'))}


def tiny(**kw) -> BiRefNet:
    """A narrow BiRefNet (the synthetic config's decoder widths): the same modules, names and data flow."""
    kw = dict(dict(base_size=(64, 64), inter_channels=16, aspp_planes=32), **kw)
    return BiRefNet(dict(TINY_SWIN), **kw)


def keyfile_state_dict(name: str, like: dict, shared: bool = True, seed: int = 0) -> OrderedDict:
    """A checkpoint with exactly the official names / shapes / dtypes of ``birefnet_<name>.txt``. Float tensors are
    random; with ``shared`` they are views of one random buffer, so ``torch.save`` writes it once (a Swin-L file
    is ~40 MB instead of 880 MB). Integer buffers (Swin's relative_position_index, BN counters) come from ``like``."""
    rows = read_key_file(f'birefnet_{name}')
    g = torch.Generator().manual_seed(seed)
    pool = torch.randn(max(math.prod(s) for _, s, d in rows if d.is_floating_point), generator=g) if shared else None
    sd = OrderedDict()
    for key, shape, dtype in rows:
        if not dtype.is_floating_point:
            sd[key] = like[key].clone()
        elif shared:
            sd[key] = pool[:math.prod(shape)].view(shape)
        else:
            sd[key] = torch.randn(shape, generator=g, dtype=dtype)
    return sd


# --------------------------------------------------------------------------- official checkpoints
@pytest.mark.parametrize('name', ['swin_v1_l', 'swin_v1_t'])
def test_state_dict_equals_official_key_file(models, name):
    own = models[name].state_dict()
    ref = read_key_file(f'birefnet_{name}')
    assert [k for k, _, _ in ref] == list(own)  # same names, same registration order
    assert [(tuple(own[k].shape), own[k].dtype) for k, _, _ in ref] == [(s, d) for _, s, d in ref]


@pytest.mark.parametrize('name', ['swin_v1_l', 'swin_v1_t'])
def test_official_pth_loads_strict_with_prefixes(models, name, tmp_path):
    model = models[name]
    sd = keyfile_state_dict(name, model.state_dict())
    for i, prefix in enumerate(['', 'module.', '_orig_mod.', 'module._orig_mod.']):
        path = tmp_path / f'BiRefNet-general-epoch_{i}.pth'
        save_checkpoint_atomic(OrderedDict((prefix + k, v) for k, v in sd.items()), path)
        with torch.no_grad():
            model.decoder.conv_out1[0].weight.zero_()
        assert load_birefnet_checkpoint(model, path) == {}
        own = model.state_dict()
        for k in ('bb.patch_embed.proj.weight', 'decoder.conv_out1.0.weight', 'squeeze_module.0.bn_out.running_var'):
            assert torch.equal(own[k], sd[k]), (prefix, k)
    assert model.trained_base_size is None and model.base_size == (1024, 1024)


def test_safetensors_loads_and_errors_name_the_files(models, tmp_path):
    lite, large = models['swin_v1_t'], models['swin_v1_l']
    sd = keyfile_state_dict('swin_v1_t', lite.state_dict(), shared=False, seed=1)
    st = tmp_path / 'model.safetensors'  # HuggingFace layout: no prefix, no meta
    save_checkpoint_file(sd, st)
    assert lite.load_checkpoint(st) == {}
    assert torch.equal(lite.state_dict()['decoder.gdt_convs_attn_2.0.weight'], sd['decoder.gdt_convs_attn_2.0.weight'])
    # a Swin-T checkpoint into the Swin-L config: both backbones named
    small = tmp_path / 'BiRefNet-general-bb_swin_v1_tiny-epoch_232.pth'
    save_checkpoint_atomic(keyfile_state_dict('swin_v1_t', lite.state_dict()), small)
    with pytest.raises(RuntimeError, match=r'BiRefNet-general-bb_swin_v1_tiny-epoch_232\.pth: this is a BiRefNet '
                                           r'Swin-T checkpoint but the config builds BiRefNet Swin-L'):
        large.load_checkpoint(small)
    # truncated files
    for src in (small, st):
        cut = tmp_path / f'cut_{src.name}'
        data = src.read_bytes()
        cut.write_bytes(data[:len(data) // 2])
        with pytest.raises(RuntimeError, match=f'cut_{src.name}'.replace('.', r'\.')):
            load_birefnet_checkpoint(lite, cut)
    # backbone-only ImageNet weights / another model
    imnet = tmp_path / 'swin_tiny_patch4_window7_224_22kto1k_finetune.pth'
    save_checkpoint_atomic({'model': {k[3:]: v for k, v in sd.items() if k.startswith('bb.')}}, imnet)
    with pytest.raises(RuntimeError, match='is not a BiRefNet checkpoint.*backbone-only ImageNet weights'):
        load_birefnet_checkpoint(lite, imnet)


def test_our_checkpoints_and_base_size(tmp_path):
    model = tiny(base_size=(96, 64))
    meta = model.checkpoint_meta()
    assert meta == {'model': 'BiRefNet', 'backbone': 'Swin (embed_dim 32, 2 stage-3 blocks)', 'base_size': [96, 64]}
    for suffix in ('.pth', '.safetensors'):
        path = tmp_path / f'final{suffix}'
        save_checkpoint_file(model.state_dict(), path, meta=meta)
        other = tiny(base_size=(64, 64))
        assert other.load_checkpoint(path)['base_size'] == [96, 64]
        assert other.base_size == (96, 64) and other.trained_base_size == (96, 64)
        lower = tiny()  # another size runs (a warning says so): nothing in the network depends on it
        load_birefnet_checkpoint(lower, path, base_size=(64, 64))
        assert lower.base_size == (64, 64) and lower.trained_base_size == (96, 64)


def test_inspyrenet_has_the_same_load_method(tmp_path):
    from wsss.models.saliency import inspyrenet_res2net50
    m = inspyrenet_res2net50(base_size=(64, 64), depth=8, layers=[1, 1, 1, 1], base_channels=8)
    path = tmp_path / 'ours.pth'
    save_checkpoint_file(m.state_dict(), path, meta=m.checkpoint_meta())
    assert m.load_checkpoint(path, base_size=(64, 64))['base_size'] == [64, 64]


# --------------------------------------------------------------------------- forward
def test_forward_1024_and_odd_size():
    """The released input size through the narrow model (every size-dependent step -- patch embedding, window
    padding, the half-size 'cat' input, image patches, upsampling -- is the same at any width), and the released
    Swin-T at an odd non-square size. The released configs at 1024 x 1024 run in test_birefnet_inference.py with
    ``WSSS_BIREFNET_FULL_SIZE=1`` (12 minutes on 2 CPU cores; benchmarks/RESULTS.md)."""
    torch.manual_seed(0)
    with torch.no_grad():
        p1 = tiny().eval()(torch.randn(1, 3, 1024, 1024))['saliency'][-1]
        assert p1.shape == (1, 1, 1024, 1024) and torch.isfinite(p1).all()
        model = SALIENCY_MODELS.build(dict(type='BiRefNet_SwinV1T')).eval()  # a fresh one: random init, finite
        out = model(torch.randn(1, 3, 352, 224))
        assert list(out) == ['saliency'] and len(out['saliency']) == 1
        assert out['saliency'][-1].shape == (1, 1, 352, 224) and torch.isfinite(out['saliency'][-1]).all()
    with pytest.raises(ValueError, match=r'multiples of 32.*got 350x224'):
        model(torch.randn(1, 3, 350, 224))


def test_predict_is_sigmoid_of_last_logits():
    torch.manual_seed(0)
    model = tiny().eval()
    x = torch.randn(2, 3, 64, 96)
    p = model.predict(x)
    with torch.no_grad():
        logits = model(x)['saliency'][-1]
    assert p.shape == (2, 1, 64, 96) and p.dtype == torch.float32
    torch.testing.assert_close(p, 1 / (1 + torch.exp(-logits)))
    assert float(p.min()) >= 0 and float(p.max()) <= 1


def test_autocast_predict_and_loss():
    """bfloat16 autocast on CPU: the deformable convs run in float32 (torchvision's CPU kernel has no half types),
    maps stay close to float32, the loss is float32 and backpropagates."""
    torch.manual_seed(0)
    model, x = tiny(), torch.randn(2, 3, 64, 64)
    check_autocast_predict(model, x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.train().loss({'img': x, 'gt': (torch.rand(2, 1, 64, 64) > 0.5).float()})
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()


def test_train_outputs_and_gradient_labels():
    torch.manual_seed(0)
    model = tiny().train()
    img = torch.randn(2, 3, 64, 96)
    out = model(img)
    assert [tuple(s.shape[-2:]) for s in out['saliency']] == [(2, 3), (4, 6), (8, 12), (64, 96)]
    assert [tuple(g.shape[-2:]) for g in out['gdt_pred']] == [(2, 3), (4, 6), (8, 12)]
    grad = image_gradient(img)
    for m, label in zip(out['saliency'][:3], out['gdt_label']):
        torch.testing.assert_close(label, grad * F.interpolate(m, size=(64, 96), mode='bilinear', align_corners=True))


def test_image_patches_channel_order():
    img = torch.arange(2 * 3 * 8 * 12, dtype=torch.float32).view(2, 3, 8, 12)
    p = image_to_patches(img, torch.zeros(1, 1, 2, 3))        # grid 4 x 4 of 2 x 3 tiles
    assert p.shape == (2, 48, 2, 3)
    for c in range(3):
        for i in range(4):
            for j in range(4):
                assert torch.equal(p[:, (c * 4 + i) * 4 + j], img[:, c, 2 * i:2 * i + 2, 3 * j:3 * j + 3])


def test_deformable_conv_init_offsets_and_mask():
    torch.manual_seed(0)
    dc = DeformableConv2d(4, 5, 3, 1, 1)
    x = torch.randn(1, 4, 6, 7)
    w = dc.regular_conv.weight
    torch.testing.assert_close(dc(x), F.conv2d(x, w, padding=1))      # zero offsets, mask 2 * sigmoid(0) = 1
    with torch.no_grad():
        dc.offset_conv.bias.copy_(torch.tensor([0.0, 1.0] * 9))        # (dy, dx) = (0, 1) at every tap
        dc.modulator_conv.bias.fill_(math.log(1 / 3))                  # 2 * sigmoid(log(1/3)) = 0.5
    # tap kx of output column j samples column j - 1 + kx + 1: no padding on the left, 2 on the right
    torch.testing.assert_close(dc(x), 0.5 * F.conv2d(F.pad(x, (0, 2, 1, 1)), w), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- loss
def _gaussian_window_np(size=11, sigma=1.5):
    x = np.arange(size) - size // 2
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    return np.outer(g, g)


def test_pixel_terms_against_numpy():
    ndimage = pytest.importorskip('scipy.ndimage')
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, (2, 1, 13, 17))
    g = (rng.uniform(size=(2, 1, 13, 17)) > 0.6).astype(np.float64)
    terms = BiRefNetLoss(mae=1.0).pixel_terms(torch.from_numpy(p), torch.from_numpy(g))
    # BCE (mean), IoU (summed over the batch), MAE
    bce = -(g * np.log(p) + (1 - g) * np.log(1 - p)).mean()
    iou = sum(1 - (p[b] * g[b]).sum() / (p[b].sum() + g[b].sum() - (p[b] * g[b]).sum()) for b in range(2))
    assert float(terms['bce']) == pytest.approx(bce, rel=1e-12)
    assert float(terms['iou']) == pytest.approx(iou, rel=1e-12)
    assert float(terms['mae']) == pytest.approx(np.abs(p - g).mean(), rel=1e-12)
    # SSIM (Wang et al. 2004) with a zero-padded Gaussian window, loss = 1 - (1 + SSIM) / 2
    w = _gaussian_window_np()
    maps = []
    for b in range(2):
        x, y = p[b, 0], g[b, 0]

        def blur(t):
            return ndimage.correlate(t, w, mode='constant', cval=0.0)
        mx, my = blur(x), blur(y)
        vx, vy, cxy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        maps.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
    assert float(terms['ssim']) == pytest.approx(1 - (1 + np.mean(maps)) / 2, rel=1e-9)
    same = BiRefNetLoss().pixel_terms(torch.from_numpy(p), torch.from_numpy(p))
    assert float(same['ssim']) == pytest.approx(0.0, abs=1e-12)


def test_loss_weights_by_hand_on_constant_maps():
    """gt = 1 on 2 images of 8x8, every output a constant logit 0 at its own size (p = 0.5 after upsampling):
    BCE = ln 2 per output; IoU per image = 32 / (64 + 32 - 32) = 0.5, summed over the 2 images = 1 per output."""
    gt = torch.ones(2, 1, 8, 8, dtype=torch.float64)
    sal = [torch.zeros(2, 1, s, s, dtype=torch.float64) for s in (1, 2, 4, 8)]
    out = BiRefNetLoss()(sal, gt)
    assert set(out) == {'loss_bce', 'loss_iou', 'loss_ssim'}  # mae weight 0, no gradient outputs given
    assert float(out['loss_bce']) == pytest.approx(30 * 4 * math.log(2), rel=1e-12)
    assert float(out['loss_iou']) == pytest.approx(0.5 * 4 * 1.0, rel=1e-12)


def test_laplacian_kernel_and_gradient_reference():
    k = torch.ones(5, 5, dtype=torch.float64)
    k[2, 2] = -24
    torch.testing.assert_close(laplacian_kernel(5, torch.float64), k / 48)  # kornia: / sum(|k|) = 48
    rng = np.random.default_rng(1)
    img = rng.normal(size=(1, 3, 6, 7))
    m = np.pad(img.mean(1)[0], 2, mode='reflect')                         # kornia's default border: reflect
    ref = np.array([[(m[i:i + 5, j:j + 5] * k.numpy()).sum() / 48 for j in range(7)] for i in range(6)])
    np.testing.assert_allclose(image_gradient(torch.from_numpy(img))[0, 0].numpy(), ref, rtol=1e-12, atol=1e-12)


def test_gradient_loss_by_hand():
    """Predictions are constant 1x1 maps (upsampled: constant); BCE(sigmoid(pred), sigmoid(label)) per level,
    summed over the levels."""
    labels = [torch.tensor([[[[0.5, -1.0], [2.0, 0.0]]]], dtype=torch.float64) * s for s in (1, 2, 3)]
    preds = [torch.full((1, 1, 1, 1), v, dtype=torch.float64) for v in (0.3, -0.7, 1.1)]
    out = BiRefNetLoss(bce=0, iou=0, ssim=0)([], torch.zeros(1, 1, 2, 2), preds, labels)
    assert set(out) == {'loss_gdt'}

    def sig(v):
        return 1 / (1 + np.exp(-v))
    want = 0.0
    for v, lab in zip((0.3, -0.7, 1.1), labels):
        t = sig(lab.numpy())
        want += float(np.mean(-(t * np.log(sig(v)) + (1 - t) * np.log(1 - sig(v)))))
    assert float(out['loss_gdt']) == pytest.approx(want, rel=1e-12)


def test_tiny_model_learns_a_blob_and_gradients_reach_the_backbone():
    torch.manual_seed(0)
    model = tiny().train()
    yy, xx = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing='ij')
    gt = (((yy - 28) ** 2 + (xx - 36) ** 2) < 14 ** 2).float()[None, None]
    rgb = torch.stack([0.2 + 0.6 * gt[0, 0], 0.5 - 0.3 * gt[0, 0], 0.4 + 0.0 * gt[0, 0]])[None]
    rgb = rgb + 0.05 * torch.randn(1, 3, 64, 64)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    batch = {'img': torch.cat([(rgb - mean) / std, ((rgb - mean) / std).flip(-1)]),
             'gt': torch.cat([gt, gt.flip(-1)])}
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    totals = []
    for step in range(10):
        losses = model.loss(batch)
        assert set(losses) == {'loss_bce', 'loss_iou', 'loss_ssim', 'loss_gdt'}
        total = sum(losses.values())
        opt.zero_grad(set_to_none=True)
        total.backward()
        if step == 0:
            assert [n for n, p in model.named_parameters() if p.grad is None] == []
            assert model.bb.patch_embed.proj.weight.grad.abs().sum() > 0
            assert model.bb.layers[3].blocks[0].attn.qkv.weight.grad.abs().sum() > 0
        opt.step()
        totals.append(float(total.detach()))
    assert all(math.isfinite(t) for t in totals)
    print('losses over 10 Adam steps:', [round(t, 2) for t in totals])
    assert totals[-1] < 0.8 * totals[0], totals
