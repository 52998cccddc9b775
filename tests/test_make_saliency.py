"""Saliency-map inference engine + tools: official-format parity, resume after a crash, shards, blending, errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from test_inspyrenet import official_state_dict, tiny_model
from tools_cli import load_tool
from wsss.models.saliency import inspyrenet_res2net50, inspyrenet_swinb
from wsss.saliency.inference import dynamic_size, list_images, make_saliency_maps, plan_image
from wsss.utils.checkpoint import save_checkpoint_atomic

pytestmark = pytest.mark.usefixtures('one_thread')   # conftest.py

ROOT = Path(__file__).resolve().parents[1]


def write_images(root: Path, sizes, seed=0, split='train') -> list[str]:
    """VOC-layout JPEGs with a bright ellipse (so maps are not flat) + a split list."""
    rng = np.random.default_rng(seed)
    (root / 'JPEGImages').mkdir(parents=True, exist_ok=True)
    ids = []
    for i, (h, w) in enumerate(sizes):
        yy, xx = np.mgrid[:h, :w]
        obj = ((yy - h * 0.5) / (0.3 * h)) ** 2 + ((xx - w * 0.45) / (0.25 * w)) ** 2 < 1
        img = rng.integers(0, 80, (h, w, 3)).astype(np.uint8)
        img[obj] = (rng.integers(150, 255, 3)).astype(np.uint8)
        name = f'img_{i:03d}'
        Image.fromarray(img).save(root / 'JPEGImages' / f'{name}.jpg', quality=95)
        ids.append(name)
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True, exist_ok=True)
    (root / 'ImageSets' / 'Segmentation' / f'{split}.txt').write_text('\n'.join(ids) + '\n')
    return ids


def calibrate_bn(model, x):
    """Running BN statistics from one batch, so random weights give non-degenerate maps in eval mode. Only the
    BatchNorm layers are in training mode (dropout and drop-path stay off), so the result does not depend on the
    global RNG state."""
    model.eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
            m.train()
    with torch.no_grad():
        model(x)
    return model.eval()


def read_maps(d: Path, ids):
    return {i: np.asarray(Image.open(d / f'{i}.png')) for i in ids}


def test_plan_and_dynamic_size():
    assert dynamic_size(375, 500) == (384, 512)            # small: own size rounded to multiples of 32
    assert dynamic_size(2000, 3000) == (1280, 1920)        # short side capped at 1280
    assert dynamic_size(3000, 2000) == (1920, 1280)
    assert plan_image(375, 500, 'static', (384, 384)) == ('single', (384, 384))
    assert plan_image(375, 500, 'dynamic', (384, 384)) == ('single', (384, 512))
    assert plan_image(375, 500, 'blend', (384, 384), threshold=512) == ('single', (384, 384))  # H <= 512
    assert plan_image(700, 900, 'blend', (384, 384), threshold=512) == ('blend', (704, 896))


def reference_official_inference(model, path: Path) -> np.ndarray:
    """Written from the official test pipeline: PIL bilinear to 384x384, /255, ImageNet mean/std (numpy float32,
    in place), forward, sigmoid(d0), min-max over the tensor, bilinear (align_corners=True) to the image size,
    floor(255 * pred)."""
    img = Image.open(path).convert('RGB')
    w, h = img.size
    x = np.array(img.resize((384, 384), Image.BILINEAR), dtype=np.float32)
    x /= 255
    x -= [0.485, 0.456, 0.406]
    x /= [0.229, 0.224, 0.225]
    t = torch.from_numpy(x.transpose(2, 0, 1).copy())[None].float()
    with torch.no_grad():
        d0 = model(t)['saliency'][3]
    pred = torch.sigmoid(d0)
    pred = (pred - pred.min()) / (pred.max() - pred.min() + 1e-8)
    pred = F.interpolate(pred, (h, w), mode='bilinear', align_corners=True)[0, 0].numpy()
    return (pred * 255).astype(np.uint8)


def test_official_latest_pth_through_make_saliency_matches_reference(tmp_path):
    make_saliency = load_tool('make_saliency')
    root = tmp_path / 'voc'
    ids = write_images(root, [(57, 83), (90, 64)])
    # an official-format latest.pth: raw state_dict, official key names, random weights (BN statistics
    # calibrated on a small batch so the maps are not flat)
    model = inspyrenet_res2net50()
    model.load_state_dict(official_state_dict('res2net50', seed=1), strict=True)
    calibrate_bn(model, torch.randn(2, 3, 64, 64))
    sd = model.state_dict()
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    ckpt = tmp_path / 'latest.pth'
    save_checkpoint_atomic(sd, ckpt)
    stats = make_saliency.main([str(ROOT / 'configs/saliency/inspyrenet_res2net50_duts.py'), '--checkpoint',
                                str(ckpt), '--data-root', str(root), '--split', 'train', '--out-name', 'r50',
                                '--batch-size', '2', '--device', 'cpu', '--num-workers', '0', '--no-progress'])
    assert stats['written'] == 2 and stats['mode'] == 'static' and stats['base_size'] == [384, 384]
    out = root / 'saliency' / 'r50'
    for i in ids:
        ours = np.asarray(Image.open(out / f'{i}.png'))
        ref = reference_official_inference(model, root / 'JPEGImages' / f'{i}.jpg')
        assert ours.shape == ref.shape and ours.dtype == np.uint8
        assert ref.std() > 5, 'degenerate reference map'
        assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1
    # the folder now holds this checkpoint's maps: other weights are refused (naming the folder and the entry)
    # instead of skipping every image as done, until --overwrite rewrites them all
    key = next(k for k, v in sd.items() if k.endswith('.weight') and v.dim() == 4)
    sd2 = dict(sd, **{key: sd[key] * 1.01})
    ckpt2 = tmp_path / 'other.pth'
    save_checkpoint_atomic(sd2, ckpt2)
    args = [str(ROOT / 'configs/saliency/inspyrenet_res2net50_duts.py'), '--checkpoint', str(ckpt2), '--data-root',
            str(root), '--split', 'train', '--out-name', 'r50', '--batch-size', '2', '--device', 'cpu',
            '--num-workers', '0', '--no-progress']
    before = (out / f'{ids[0]}.png').read_bytes()
    with pytest.raises(ValueError, match=r'(?s)r50 holds files made from other inputs.*checkpoint_sha256'):
        make_saliency.main(args)
    assert (out / f'{ids[0]}.png').read_bytes() == before
    assert make_saliency.main(args + ['--overwrite'])['written'] == 2
    assert make_saliency.main(args)['written'] == 0                 # the stamp is now the new checkpoint's


@pytest.mark.slow
def test_official_swinb_latest_pth_through_make_saliency_matches_reference(tmp_path):
    make_saliency = load_tool('make_saliency')
    root = tmp_path / 'voc'
    ids = write_images(root, [(70, 90)])
    model = inspyrenet_swinb()
    model.load_state_dict(official_state_dict('swinb', seed=2, like=model.state_dict()), strict=True)
    # calibrate on the test image itself (fixed input: the map must not depend on the global RNG state)
    from wsss.utils.imaging import normalize
    img = np.asarray(Image.open(root / 'JPEGImages' / f'{ids[0]}.jpg').convert('RGB').resize((384, 384)))
    calibrate_bn(model, torch.from_numpy(normalize(img))[None])
    ckpt = tmp_path / 'latest.pth'
    save_checkpoint_atomic(model.state_dict(), ckpt)   # official latest.pth: a raw state_dict
    stats = make_saliency.main([str(ROOT / 'configs/saliency/inspyrenet_swinb_duts.py'), '--checkpoint',
                                str(ckpt), '--data-root', str(root), '--split', 'train', '--out-name', 'swinb',
                                '--batch-size', '1', '--device', 'cpu', '--num-workers', '0', '--no-progress'])
    assert stats['written'] == 1 and stats['base_size'] == [384, 384]
    ours = np.asarray(Image.open(root / 'saliency' / 'swinb' / f'{ids[0]}.png'))
    ref = reference_official_inference(model, root / 'JPEGImages' / f'{ids[0]}.jpg')
    assert ref.std() > 5, 'degenerate reference map'
    assert np.abs(ours.astype(int) - ref.astype(int)).max() <= 1


class Crash(RuntimeError):
    pass


def test_killed_half_way_then_resumed_gives_the_same_maps(tmp_path):
    torch.manual_seed(0)
    root = tmp_path / 'voc'
    sizes = [(40, 60), (70, 50), (45, 64), (64, 64), (33, 90), (80, 40), (50, 50)]
    ids = write_images(root, sizes)
    images = list_images(root, 'train')
    model = calibrate_bn(tiny_model(base_size=(64, 64)), torch.randn(2, 3, 64, 64))
    kw = dict(mode='dynamic', batch_size=2, progress=False)
    full = make_saliency_maps(model, images, tmp_path / 'full', **kw)
    assert full['written'] == len(ids) and full['batches'] >= 4  # several size groups
    saved = []

    def crash_after_3(image_id):
        saved.append(image_id)
        if len(saved) == 3:
            raise Crash('killed')
    with pytest.raises(Crash):
        make_saliency_maps(model, images, tmp_path / 'resumed', on_saved=crash_after_3, **kw)
    assert len(list((tmp_path / 'resumed').glob('*.png'))) == 3
    assert not [p for p in (tmp_path / 'resumed').iterdir() if p.suffix != '.png']  # no temp files left
    again = make_saliency_maps(model, images, tmp_path / 'resumed', **kw)
    assert again['written'] == len(ids) - 3
    a, b = read_maps(tmp_path / 'full', ids), read_maps(tmp_path / 'resumed', ids)
    for i, (h, w) in zip(ids, sizes):
        assert a[i].shape == (h, w)
        assert np.array_equal(a[i], b[i]), i
    # nothing left to do
    assert make_saliency_maps(model, images, tmp_path / 'resumed', **kw)['written'] == 0
    # two shards cover the list; batched vs one-at-a-time agree within one grey level (per-image min-max)
    for r in range(2):
        make_saliency_maps(model, images, tmp_path / 'shards', rank=r, world_size=2, **kw)
    one = make_saliency_maps(model, images, tmp_path / 'single', mode='dynamic', batch_size=1, progress=False)
    assert one['written'] == len(ids)
    c, d = read_maps(tmp_path / 'shards', ids), read_maps(tmp_path / 'single', ids)
    for i in ids:
        assert np.abs(a[i].astype(int) - c[i].astype(int)).max() <= 1
        assert np.abs(a[i].astype(int) - d[i].astype(int)).max() <= 1


def test_non_finite_output_is_refused_not_written(tmp_path):
    """Weights that make the model output NaN stop the run naming the images; no map is written (NaN would
    be cast to an arbitrary grey level)."""
    root = tmp_path / 'voc'
    ids = write_images(root, [(40, 60), (50, 50)])
    model = calibrate_bn(tiny_model(base_size=(64, 64)), torch.randn(2, 3, 64, 64))
    with torch.no_grad():
        next(model.parameters()).fill_(float('nan'))
    with pytest.raises(ValueError, match=r"non-finite values \(NaN / inf\) for \['img_00"):
        make_saliency_maps(model, list_images(root, 'train'), tmp_path / 'out', batch_size=2, progress=False)
    assert not list((tmp_path / 'out').glob('*.png')) and len(ids) == 2


def test_blend_mode_runs_pyramid_blending(tmp_path):
    root = tmp_path / 'voc'
    ids = write_images(root, [(100, 130), (40, 50)])
    model = calibrate_bn(tiny_model(base_size=(64, 64)), torch.randn(2, 3, 64, 64))
    calls = []
    orig = model.blend

    def spy(lr, hr):
        calls.append((tuple(lr['saliency'][3].shape), tuple(hr['saliency'][3].shape)))
        return orig(lr, hr)
    model.blend = spy
    stats = make_saliency_maps(model, list_images(root, 'train'), tmp_path / 'out', mode='blend', threshold=60,
                               batch_size=4, progress=False)
    assert stats['written'] == 2
    assert calls == [((1, 1, 64, 64), (1, 1, 96, 128))]  # only the big image is blended (LR 64x64, HR 96x128)
    maps = read_maps(tmp_path / 'out', ids)
    assert maps[ids[0]].shape == (100, 130) and maps[ids[1]].shape == (40, 50)


def _one_image_and_tiny_checkpoint(tmp_path):
    """A one-image VOC folder and an our-format checkpoint of a tiny model trained at base size 64."""
    root = tmp_path / 'voc'
    write_images(root, [(40, 40)])
    model = tiny_model(base_size=(64, 64))
    ckpt = tmp_path / 'ours.pth'
    save_checkpoint_atomic({'state_dict': model.state_dict(), 'meta': model.checkpoint_meta()}, ckpt)
    return root, ckpt


def test_cli_errors_wrong_backbone_and_base_size(tmp_path):
    make_saliency = load_tool('make_saliency')
    root, ours = _one_image_and_tiny_checkpoint(tmp_path)
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(f"_base_ = ['{ROOT / 'configs/saliency/inspyrenet_res2net50_synthetic.py'}']\n"
                   "model = dict(depth=8, base_size=[64, 64], backbone=dict(layers=[1, 1, 1, 1], base_channels=8))\n")
    common = ['--checkpoint', str(ours), '--data-root', str(root), '--out-name', 'x', '--device', 'cpu',
              '--num-workers', '0', '--no-progress']
    assert make_saliency.main([str(cfg)] + common)['written'] == 1
    with pytest.raises(ValueError, match=r'trained with base_size \[64, 64\] but base_size \[96, 96\]'):
        make_saliency.main([str(cfg), '--base-size', '96', '96'] + common)
    swin_cfg = str(ROOT / 'configs/saliency/inspyrenet_swinb_duts.py')
    with pytest.raises(RuntimeError, match=r'this is a Res2Net.* checkpoint but the config builds Swin-B'):
        make_saliency.main([swin_cfg] + common)


def test_engine_refuses_a_base_size_other_than_the_trained_one(tmp_path):
    from wsss.models.saliency import load_inspyrenet_checkpoint
    root, ckpt = _one_image_and_tiny_checkpoint(tmp_path)
    m = tiny_model(base_size=(64, 64))
    load_inspyrenet_checkpoint(m, ckpt)
    with pytest.raises(ValueError, match=r'trained with base_size \[64, 64\] but base_size \[32, 32\]'):
        make_saliency_maps(m, list_images(root), tmp_path / 'out', base_size=(32, 32), progress=False)
    assert make_saliency_maps(m, list_images(root), tmp_path / 'out', progress=False)['written'] == 1
