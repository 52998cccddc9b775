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


# ---------------------------------------------------------------------------------------------------------------
# The torch backend (permutohedral lattice in PyTorch) against pydensecrf
# ---------------------------------------------------------------------------------------------------------------
import torch  # noqa: E402

from wsss.crf import dense_crf_many, resolve_backend  # noqa: E402
from wsss.crf.backend_torch import _Kernel, mean_field  # noqa: E402
from wsss.crf.lattice import PermutohedralLattice  # noqa: E402

#: measured max |Q_torch − Q_pydensecrf| (float32 summation order): 1.4e-5 over the parity cases below (worst:
#: 90x120, 21 labels, deeplab_v2), 4.5e-5 on unstructured random logits; the tolerance leaves 4x room over the
#: latter. Argmax labels agreed on 100 % of pixels in every case.
MARGINAL_ATOL = 2e-4
MIN_AGREEMENT = 0.995


pytestmark = pytest.mark.usefixtures('one_thread')   # conftest.py


def _scene(h, w, k, seed=0):
    """A smooth image with a few edges and noisy, partly wrong class probabilities (the CRF changes labels)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([127 + 90 * np.sin(xx / 7.0 + c) * np.cos(yy / 5.0) for c in range(3)], -1)
    img[yy > h // 2] += 60
    img = np.clip(img + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    region = ((xx * k) // w + (yy > h // 2)) % k
    logits = rng.normal(0, 1.5, (k, h, w)) + 1.5 * (np.arange(k)[:, None, None] == region)
    p = np.exp(logits)
    return img, (p / p.sum(0, keepdims=True)).astype(np.float32)


PARITY_CASES = [pytest.param(size, k, preset, id=f'{size[0]}x{size[1]}-{k}-{preset}')
                for size in [(40, 56), (61, 47), (90, 120)] for k in (2, 3, 21) for preset in ('deeplab_v2', 'psa')]


@pytest.mark.parametrize('size, k, preset', PARITY_CASES)
def test_torch_backend_equals_pydensecrf(size, k, preset):
    params = getattr(CRFParams, preset)()
    img, probs = _scene(*size, k, seed=k)
    ref = dense_crf(img, probs, params, backend='pydensecrf')
    ours = dense_crf(img, probs, params, backend='torch')
    assert ours.shape == ref.shape and ours.dtype == np.float32
    assert (ref.argmax(0) != probs.argmax(0)).mean() > 0.01          # the CRF does change labels here
    agree = (ours.argmax(0) == ref.argmax(0)).mean()
    diff = np.abs(ours - ref).max()
    assert agree >= MIN_AGREEMENT and diff <= MARGINAL_ATOL, (agree, diff)


@pytest.mark.parametrize('d', [1, 2, 3])
def test_lattice_against_pydensecrf_on_arbitrary_features(d):
    """One pairwise term over d-dimensional features (``DenseCRF.addPairwiseEnergy``): pins elevation,
    rounding, ranks, barycentric weights, keys, neighbours, blur and slice in 1-, 2- and 3-D."""
    import pydensecrf.densecrf as dcrf
    rng = np.random.default_rng(d)
    n, k = 300, 3
    feats = (rng.random((d, n)) * 6).astype(np.float32)
    feats[:, :40] = np.round(feats[:, :40])           # points on lattice-aligned values (rounding ties)
    unary = rng.random((k, n)).astype(np.float32) * 3
    crf = dcrf.DenseCRF(n, k)
    crf.setUnaryEnergy(unary)
    crf.addPairwiseEnergy(feats, compat=5.0)
    ref = np.asarray(crf.inference(3), np.float32)
    ours = mean_field(torch.from_numpy(unary.T.copy()), [_Kernel(torch.from_numpy(feats.T.copy()), 5.0)], 3)
    np.testing.assert_allclose(ours.numpy().T, ref, atol=MARGINAL_ATOL)


def test_lattice_splat_slice_weights_and_gaussian_shape():
    rng = np.random.default_rng(0)
    f = torch.from_numpy(rng.random((60, 2)).astype(np.float32) * 4)
    lat = PermutohedralLattice(f)
    w = lat.weights
    assert (w >= -1e-6).all()
    torch.testing.assert_close(w.sum(1), torch.ones(60), atol=1e-5, rtol=0)   # barycentric: a partition of 1
    assert lat.offsets.min() >= 0 and lat.offsets.max() < lat.M
    # a point on a lattice vertex (the origin) puts all its weight there
    origin = PermutohedralLattice(torch.zeros(1, 2))
    assert origin.M == 3 and origin.weights[0].tolist() == [1.0, 0.0, 0.0]
    # the filter as a matrix: the reversed blur order is its transpose (slice = splat transposed; missing
    # neighbours make the directional blurs not commute, so it is not symmetric itself), and it is a Gaussian
    # of the feature distance up to the lattice's approximation
    kmat = lat.compute(torch.eye(60))
    torch.testing.assert_close(lat.compute(torch.eye(60), reverse=True), kmat.T, atol=1e-5, rtol=0)
    gauss = torch.exp(-0.5 * torch.cdist(f, f) ** 2)
    near, far = gauss > 0.6, gauss < 0.01
    assert kmat[far].max() < 0.05 and kmat[near].min() > 0.2
    corr = np.corrcoef(kmat.flatten().numpy(), gauss.flatten().numpy())[0, 1]
    assert corr > 0.9, corr


def test_present_classes_only_for_both_backends():
    """``crf_labels`` runs on the channels it is given (background + present classes) with either backend and
    returns their label ids; the two backends agree."""
    img, probs = _scene(40, 56, 3, seed=4)
    out = {b: crf_labels(img, probs, [0, 7, 15], CRFParams.psa(), backend=b) for b in ('pydensecrf', 'torch')}
    for lab in out.values():
        assert set(np.unique(lab)) <= {0, 7, 15} and len(np.unique(lab)) == 3
    assert (out['torch'] == out['pydensecrf']).mean() >= MIN_AGREEMENT


def test_several_images_share_one_lattice():
    """``dense_crf_many``: three images of different sizes through one torch lattice (image id as a key) equal
    each image on its own, and pydensecrf."""
    scenes = [_scene(40, 56, 3, seed=1), _scene(61, 47, 3, seed=2), _scene(20, 20, 3, seed=3)]
    imgs, probs = [s[0] for s in scenes], [s[1] for s in scenes]
    params = CRFParams.deeplab_v2()
    many = dense_crf_many(imgs, probs, params, backend='torch')
    ref = dense_crf_many(imgs, probs, params, backend='pydensecrf')
    for img, p, q, r in zip(imgs, probs, many, ref):
        assert q.shape == p.shape
        np.testing.assert_allclose(q, dense_crf(img, p, params, backend='torch'), atol=1e-6, rtol=0)
        np.testing.assert_allclose(q, r, atol=MARGINAL_ATOL, rtol=0)
    # the same image twice does not see itself: a duplicate leaves the result unchanged
    twice = dense_crf_many([imgs[0], imgs[0]], [probs[0], probs[0]], params, backend='torch')
    np.testing.assert_allclose(twice[0], many[0], atol=1e-6, rtol=0)
    np.testing.assert_allclose(twice[1], many[0], atol=1e-6, rtol=0)


def test_backend_choice():
    assert resolve_backend('auto', 'cpu') == 'pydensecrf' and resolve_backend(None) == 'pydensecrf'
    assert resolve_backend('auto', 'cuda') == 'torch' and resolve_backend('auto', torch.device('cuda:0')) == 'torch'
    assert resolve_backend('pydensecrf', 'cuda') == 'pydensecrf' and resolve_backend('torch', 'cpu') == 'torch'
    with pytest.raises(ValueError, match='backend'):
        CRFParams(backend='cuda')
    with pytest.raises(ValueError, match='backend'):
        resolve_backend('gpu')
    assert CRFParams.psa(backend='torch').backend == 'torch' and CRFParams.deeplab_v2().backend == 'auto'


# ---------------------------------------------------------------------------------------------------------------
# The stages: pseudo.crf.backend through --cfg-options; eval_seg's CRF process pool == the serial loop
# ---------------------------------------------------------------------------------------------------------------
PSEUDO_CFG = """
data_root = {root!r}
model = dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'), head=dict(type='EPSHead'))
infer_dataset = dict(type='VOCDataset')
pseudo = dict(split='train', scales=(1.0,), flip=False, rule=dict(type='EPSRule', bg_score=0.2),
              crf=dict(iterations=3), num_workers=1)
"""


def test_pseudo_crf_backend_from_cfg_options(tmp_path, tiny_voc, monkeypatch):
    import wsss.crf as crf_module
    from support_models import TinyBackbone  # noqa: F401  (registers the backbone)
    from tools_cli import load_tool
    from wsss.registry import CAM_MODELS
    from wsss.utils.io import read_label_png
    torch.manual_seed(0)
    model = CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='TinyBackbone'),
                                  head=dict(type='EPSHead')))
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    cfg_file = tmp_path / 'tiny_pseudo.py'
    cfg_file.write_text(PSEUDO_CFG.format(root=str(tiny_voc)))
    calls = []
    real = crf_module.dense_crf_torch_many

    def spy(images, unaries, params, device):
        calls.extend((u.shape[0], params.backend) for u in unaries)
        return real(images, unaries, params, device)
    monkeypatch.setattr(crf_module, 'dense_crf_torch_many', spy)
    tool = load_tool('make_pseudo')
    outs = {}
    for backend in ('torch', 'pydensecrf'):
        out = tmp_path / backend
        tool.main([str(cfg_file), '--checkpoint', str(ckpt), '--out-dir', str(out), '--no-check',
                   '--cfg-options', f'pseudo.crf.backend={backend}'])
        outs[backend] = [read_label_png(p) for p in sorted((out / 'crf').glob('*.png'))]
        assert f"backend='{backend}'" in (out / 'config.py').read_text()
    assert calls == [(2, 'torch')] * 3            # only the torch run, background + the one present class
    for a, b in zip(*outs.values()):
        assert (a == b).mean() >= MIN_AGREEMENT
    with pytest.raises(SystemExit):                # a misspelt field is refused by the key check
        tool.main([str(cfg_file), '--checkpoint', str(ckpt), '--out-dir', str(tmp_path / 'x'),
                   '--cfg-options', 'pseudo.crf.bakend=torch'])


class _TinySegmenter(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 21, 5, padding=2)

    def predict(self, x):
        return self.conv(x)


@pytest.mark.parametrize('backend', ['pydensecrf'])   # the torch backend's pool path is the same code
def test_eval_seg_crf_workers_equal_serial(tmp_path, backend):
    from conftest import write_tiny_voc
    from wsss.engine.config import load_config
    from wsss.stages.seg import evaluate
    root = write_tiny_voc(tmp_path / 'VOC2012', n_train=1, n_val=5)
    cfg = load_config('configs/seg/deeplabv2_lite0_synthetic.py', {'data_root': str(root)})
    res = {}
    for workers in (0, 2):
        out = tmp_path / f'w{workers}'
        sec = evaluate.run(cfg, 'none.pth', out_dir=out, crf=True, model=_TinySegmenter(), device='cpu',
                           check=False, crf_backend=backend, crf_workers=workers)['val_ss_crf']
        assert sec['extra']['crf_backend'] == backend
        res[workers] = (sec['mIoU'], {p.name: p.read_bytes() for p in (out / 'pred_val_ss_crf').glob('*.png')})
    assert len(res[0][1]) == 5 and res[2] == res[0]
    nocrf = evaluate.run(cfg, 'none.pth', out_dir=tmp_path / 'plain', model=_TinySegmenter(), device='cpu',
                         check=False)['val_ss']
    assert nocrf['mIoU'] != res[0][0]              # the CRF did something
