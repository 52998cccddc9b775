"""EPS checkpoint (official keys, random weights) + multiscale_cam + EPSRule == the official infer.py rule.

The reference below is an independent re-statement of halbielee/EPS ``infer.py`` (predict_cam + infer_cam_mp):
one pass per (scale, flip), PIL CUBIC resize to (round(W*s), round(H*s)), float64
normalisation into a float32 array, softmax over C+1, bilinear upsample (align_corners=False), foreground
channels times the label vector, un-flip, ``np.sum`` over the 8 passes, ``/ (max + 1e-5)``, background 0.2,
argmax over 21 channels.
"""

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from test_resnet38 import random_official_state_dict
from wsss.pseudo.cam_infer import multiscale_cam
from wsss.registry import CAM_MODELS, PSEUDO_RULES

SCALES = (0.5, 1.0, 1.5, 2.0)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def random_checkpoint(seed=0):
    return random_official_state_dict(seed)


def official_normalize(pil):
    arr = np.asarray(pil)
    out = np.empty_like(arr, np.float32)
    for c in range(3):
        out[..., c] = (arr[..., c] / 255. - MEAN[c]) / STD[c]
    return out.transpose(2, 0, 1)


def official_labels(model, sd, pil, label, thr=0.2):
    """Re-statement of the official EPS inference (see the module docstring)."""
    w, h = pil.size
    inputs = []
    for s in SCALES:
        x = official_normalize(pil.resize((round(w * s), round(h * s)), resample=Image.BICUBIC))
        inputs += [x, np.flip(x, -1).copy()]
    cams = []
    for i in range(0, len(inputs), 2):
        # official: one pass per image; an image and its flip share a forward here only for speed (eval mode,
        # so the passes are independent)
        with torch.no_grad():
            feat = model.backbone(torch.from_numpy(np.stack(inputs[i:i + 2])))[-1]   # ResNet-38 conv6
            cam_pair = F.conv2d(feat, sd['fc8.weight'])                  # forward_cam: raw fc8, no ReLU
        for j in range(2):
            cam = F.softmax(cam_pair[j:j + 1], dim=1)
            cam = F.interpolate(cam, (h, w), mode='bilinear', align_corners=False)[0]
            fg = cam[:-1].numpy() * label.reshape(20, 1, 1)
            if (i + j) % 2 == 1:
                fg = np.flip(fg, axis=-1)
            cams.append(fg)
    sum_cam = np.sum(np.array(cams), axis=0)
    norm_cam = sum_cam / (np.max(sum_cam, (1, 2), keepdims=True) + 1e-5)
    tensor = np.zeros((21, h, w), np.float32)
    for j in range(20):
        if label[j] > 1e-5:
            tensor[j + 1] = norm_cam[j]
    tensor[0] = thr
    return np.argmax(tensor, axis=0).astype(np.uint8), norm_cam


def test_eps_checkpoint_multiscale_eps_rule_matches_official():
    sd = random_checkpoint()
    model = CAM_MODELS.build(dict(type='CAMClassifier', backbone=dict(type='ResNet38'), num_classes=20,
                                  head=dict(type='EPSHead', sal_loss=dict(type='EPSSaliencyLoss', tau=0.4, lam=0.5))))
    model.load_state_dict(sd, strict=True)
    model.eval()
    assert model.flip_fusion == 'sum'
    rng = np.random.default_rng(0)
    # smooth images (random pixels alias badly under bicubic resampling)
    images = [np.asarray(Image.fromarray(rng.integers(0, 256, (5, 7, 3)).astype(np.uint8)).resize((w, h),
                                                                                                  Image.BILINEAR))
              for h, w in [(40, 56), (44, 36)]]
    # Random ResNet-38 features are nearly constant over the image: make fc8 blind to their mean direction and
    # strong, so that the softmax maps vary spatially and the labels are not degenerate.
    with torch.no_grad():
        mu = model.backbone(torch.from_numpy(official_normalize(Image.fromarray(images[0])))[None])[-1].mean((0, 2, 3))
    w8 = sd['fc8.weight'][:, :, 0, 0]
    sd['fc8.weight'] = (300 * (w8 - (w8 @ mu)[:, None] * mu[None] / mu.dot(mu)))[:, :, None, None].contiguous()
    model.load_state_dict(sd, strict=True)
    rule = PSEUDO_RULES.build(dict(type='EPSRule', bg_score=0.2))
    labels = [np.zeros(20), np.zeros(20)]
    labels[0][[2, 11]] = 1            # two present classes
    labels[1][[7]] = 1                # one present class
    for lab, img in zip(labels, images):
        h, w = img.shape[:2]
        ref_label, ref_norm = official_labels(model, sd, Image.fromarray(img), lab)
        cams = multiscale_cam(model, img, scales=SCALES, flip=True)
        assert cams.shape == (20, h, w) and cams.dtype == np.float32
        ours, probs = rule(cams, lab, None)
        present = np.flatnonzero(lab)
        ours_norm = cams[present] / (cams[present].reshape(len(present), -1).max(-1)[:, None, None] + 1e-5)
        np.testing.assert_allclose(ours_norm, ref_norm[present], rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(ours, ref_label)
        assert probs.shape == (1 + len(present), h, w)
        # the labels are not degenerate: background and every present class occur
        assert set(np.unique(ours)) == {0, *(present + 1)}, np.unique(ours, return_counts=True)
