"""BiRefNet through the saliency stage: an official-format checkpoint (random weights with the official key names,
saved as the official train.py saves them, with the torch.compile / DDP prefixes) passed to tools/make_saliency.py
with configs/saliency/birefnet_swin_v1_{l,t}_duts.py gives the maps of the official inference (re-stated below from
ZhengPeng7/BiRefNet ``inference.py`` + ``utils.path_to_image``: cv2.imread, cv2.resize INTER_LINEAR to the model
size, BGR -> RGB, ToTensor + ImageNet Normalize, ``model(x)[-1].sigmoid()``, bilinear align_corners=True back to the
image size, ToPILImage = ``mul(255).byte()``), on images of several sizes that are not multiples of 32.

The model size is 128 x 128 here (``--base-size``; the pipeline is the same at any size, and a 1024-pixel Swin-T
forward takes a minute on 2 CPU cores). ``WSSS_BIREFNET_FULL_SIZE=1`` runs the same test at the released 1024 x 1024
(12 minutes on 2 CPU cores, both models pass; benchmarks/RESULTS.md).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from test_make_saliency import calibrate_bn, write_images
from tools_cli import load_tool
from wsss.registry import SALIENCY_MODELS

ROOT = Path(__file__).resolve().parents[1]
SIZE = 1024 if os.environ.get('WSSS_BIREFNET_FULL_SIZE') == '1' else 128
CONFIGS = {'BiRefNet_SwinV1T': 'configs/saliency/birefnet_swin_v1_t_duts.py',
           'BiRefNet_SwinV1L': 'configs/saliency/birefnet_swin_v1_l_duts.py'}
#: image sizes (h, w), none a multiple of 32; two for Swin-L (its 880 MB checkpoint is written and read once)
SIZES = {'BiRefNet_SwinV1T': [(150, 201), (233, 170), (97, 300)], 'BiRefNet_SwinV1L': [(150, 201), (97, 300)]}


def official_input(path: Path, size: int) -> tuple[torch.Tensor, tuple[int, int]]:
    import cv2
    import torchvision.transforms.functional as TF
    bgr = cv2.imread(str(path))
    x = cv2.cvtColor(cv2.resize(bgr, (size, size), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
    t = TF.normalize(TF.to_tensor(x), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    return t[None], bgr.shape[:2]


def reference_official_inference(model, path: Path, size: int) -> np.ndarray:
    import torchvision.transforms.functional as TF
    x, (h, w) = official_input(path, size)
    with torch.no_grad():
        pred = model(x)['saliency'][-1].sigmoid().to(torch.float32)
    res = F.interpolate(pred, size=(h, w), mode='bilinear', align_corners=True)
    return np.asarray(TF.to_pil_image(res[0]))


@pytest.mark.slow
@pytest.mark.parametrize('model_type', list(CONFIGS))
def test_official_checkpoint_through_make_saliency_matches_official_inference(tmp_path, model_type):
    make_saliency = load_tool('make_saliency')
    root = tmp_path / 'voc'
    ids = write_images(root, SIZES[model_type], seed=4)
    torch.manual_seed(0)
    model = SALIENCY_MODELS.build(dict(type=model_type)).eval()
    # running BN statistics from the test images and their mirror images, then output logits of spread ~2: random
    # weights give flat (saturated) maps otherwise
    x = torch.cat([official_input(root / 'JPEGImages' / f'{i}.jpg', SIZE)[0] for i in ids])
    calibrate_bn(model, torch.cat([x, x.flip(-1)]))
    with torch.no_grad():
        head = model.decoder.conv_out1[0]
        logits = model(x)['saliency'][-1]
        head.bias -= logits.mean()
        head.weight *= 2 / logits.std()
        head.bias *= 2 / logits.std()
    # official train.py: torch.save(model.state_dict()) of a compiled, DDP-wrapped model
    ckpt = tmp_path / 'BiRefNet-general-epoch_1.pth'
    torch.save({f'module._orig_mod.{k}': v for k, v in model.state_dict().items()}, ckpt)
    stats = make_saliency.main([str(ROOT / CONFIGS[model_type]), '--checkpoint', str(ckpt), '--data-root',
                                str(root), '--split', 'train', '--out-name', 'birefnet', '--base-size', str(SIZE),
                                str(SIZE), '--batch-size', '2', '--device', 'cpu', '--num-workers', '0',
                                '--no-progress'])
    assert stats['written'] == len(ids) and stats['base_size'] == [SIZE, SIZE]
    from PIL import Image
    total = close = 0
    for i in ids:
        ours = np.asarray(Image.open(root / 'saliency' / 'birefnet' / f'{i}.png'))
        ref = reference_official_inference(model, root / 'JPEGImages' / f'{i}.jpg', SIZE)
        assert ours.shape == ref.shape and ours.dtype == np.uint8
        assert ref.std() > 5, 'degenerate reference map'
        diff = np.abs(ours.astype(int) - ref.astype(int))
        total, close = total + diff.size, close + int((diff <= 1).sum())
        assert diff.max() <= 8, f'{i}: max difference {diff.max()}'
    assert close / total >= 0.999, f'{close / total:.5f} of pixels within one grey level'


def test_blend_mode_is_refused_for_birefnet(tmp_path):
    from wsss.saliency.inference import list_images, make_saliency_maps
    root = tmp_path / 'voc'
    write_images(root, [(40, 50)])
    model = SALIENCY_MODELS.build(dict(type='BiRefNet', backbone=dict(
        type='SwinTransformerV1', embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2], window_size=4,
        pretrained='none'), base_size=(64, 64)))
    with pytest.raises(ValueError, match="mode 'blend'.*BiRefNet has none"):
        make_saliency_maps(model, list_images(root), tmp_path / 'out', mode='blend', progress=False)
    out = make_saliency_maps(model, list_images(root), tmp_path / 'out', mode='static', progress=False)
    assert out['written'] == 1
