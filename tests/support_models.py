"""Tiny registered modules for fast tests (imported by configs through ``custom_imports``)."""
import torch
import torch.nn.functional as F
from torch import nn

from wsss.registry import BACKBONES


@BACKBONES.register_module(force=True)
class TinyBackbone(nn.Module):
    """Three stride-2 3x3 convs with ReLU and no BatchNorm: output stride 8, deterministic, fast."""

    def __init__(self, width: int = 8, **kwargs):
        super().__init__()
        self.out_channels = [width, 2 * width, 4 * width]
        self.output_stride = 8
        chans = [3] + self.out_channels
        self.stages = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, 2, 1) for i in range(3))

    def forward(self, x):
        outs = []
        for s in self.stages:
            x = F.relu(s(x))
            outs.append(x)
        return outs


class TinyClassifier(nn.Module):
    """loss(batch) contract of docs/ARCHITECTURE.md, with dropout so RNG restore on resume matters."""

    def __init__(self):
        super().__init__()
        self.backbone = TinyBackbone()
        self.drop = nn.Dropout2d(0.3)
        self.fc8 = nn.Conv2d(32, 20, 1, bias=False)

    def loss(self, batch):
        cam = self.fc8(self.drop(self.backbone(batch['img'])[-1]))
        logits = cam.mean((2, 3))
        return {'loss_cls': F.multilabel_soft_margin_loss(logits, batch['cls_label']),
                'acc': ((logits > 0).float() == batch['cls_label']).float().mean()}


@BACKBONES.register_module(name='TinyCAMTestBackbone', force=True)
class TinyCAMTestBackbone(nn.Module):
    """Two stages, 6 and 8 channels, output stride 2 (CAM tests)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.layer = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        self.out_channels = [6, 8]
        self.output_stride = 2

    def forward(self, x):
        a = torch.relu(self.stem(x))
        return [a, torch.relu(self.layer(a))]


@BACKBONES.register_module(force=True)
class TinyBNBackbone(nn.Module):
    """4 conv-BN-ReLU stages, channels 8/12/16/20, strides 4/8/8/8: a dilated ResNet in miniature
    (segmenter tests)."""

    def __init__(self, norm_eval: bool = False):
        super().__init__()
        self.out_channels = [8, 12, 16, 20]
        self.output_stride = 8
        chans = [3] + self.out_channels
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Conv2d(chans[i], chans[i + 1], 3, s, 1, bias=False), nn.BatchNorm2d(chans[i + 1]),
                          nn.ReLU()) for i, s in enumerate([4, 2, 1, 1]))

    def forward(self, x):
        outs = []
        for s in self.stages:
            x = s(x)
            outs.append(x)
        return outs
