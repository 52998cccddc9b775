"""Tiny registered modules for fast tests (imported by configs through ``custom_imports``)."""
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
    """loss(batch) contract of docs/CONTRACTS.md, with dropout so RNG restore on resume matters."""

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
