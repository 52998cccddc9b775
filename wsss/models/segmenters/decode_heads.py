"""Decode heads of the DeepLab family (registered in ``DECODE_HEADS``).

Common interface (:class:`BaseDecodeHead`): ``in_channels`` is the list of **all** backbone stage channels
(filled in by the segmenter from ``backbone.out_channels``) and ``in_index`` picks the stage(s) the head uses
(``-1`` = deepest), so one head config serves ResNet (4 stages) and EfficientNet-Lite0 (5 stages).
``forward(feats) -> logits (B, num_classes, h, w)`` at the head's feature resolution;
``loss(feats, batch) -> {'loss_ce': ..., 'acc_seg': ...}`` with ``loss_decode`` (a ``LOSSES`` config, default
``SegCrossEntropyLoss(ignore_index=255)``: logits bilinearly upsampled to the label size).

Parameter names (for lr multipliers via mmengine ``paramwise_cfg.custom_keys``, see configs/_base_/models):
the head is ``decode_head``; ``ASPPv2Head`` convs are ``decode_head.aspp.{0..3}``, ``LargeFOVHead`` has
``decode_head.fc6``, ``.fc7``, ``.conv_seg``; every head's final classifier is ``conv_seg`` except ASPPv2
(whose branches are the classifier, as in DeepLab-v2).
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from wsss.models.layers import ConvBNAct
from wsss.registry import DECODE_HEADS, LOSSES

IntOrSeq = Union[int, Sequence[int]]


def _default_ce() -> dict:
    return dict(type='SegCrossEntropyLoss', ignore_index=255, loss_weight=1.0)


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int = 3, dilation: int = 1) -> ConvBNAct:
    """``Conv2d(bias=False) -> BatchNorm2d -> ReLU``, size-keeping padding; weights are set by :func:`init_conv_bn`."""
    return ConvBNAct(in_channels, out_channels, kernel_size, dilation, bn=True, relu=True, init=None)


def init_conv_bn(module: nn.Module) -> None:
    """Kaiming (fan_out, relu) for convs, BN weight 1 / bias 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def pixel_accuracy(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = 255,
                   align_corners: bool = False) -> torch.Tensor:
    """Percent of non-ignored pixels whose argmax (logits upsampled to the label size) is right."""
    with torch.no_grad():
        if logits.shape[-2:] != labels.shape[-2:]:
            logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear', align_corners=align_corners)
        valid = labels != ignore_index
        correct = (logits.argmax(1) == labels) & valid
        return 100.0 * correct.sum().float() / valid.sum().clamp(min=1).float()


class BaseDecodeHead(nn.Module):
    """Stage selection, the loss and the accuracy log shared by all heads (module docstring)."""

    #: the head's training loss is ``loss_decode`` on its one output (multi-scale training can reuse it)
    single_loss = True

    def __init__(self, in_channels: IntOrSeq, num_classes: int = 21, in_index: IntOrSeq = -1,
                 loss_decode: Optional[dict] = None, align_corners: bool = False):
        super().__init__()
        self.num_classes = num_classes
        self.in_index = in_index if isinstance(in_index, int) else tuple(in_index)
        self.align_corners = align_corners
        all_channels = [in_channels] if isinstance(in_channels, int) else list(in_channels)
        if isinstance(self.in_index, int):
            self.in_channels = all_channels[self.in_index] if len(all_channels) > 1 else all_channels[0]
        else:
            self.in_channels = [all_channels[i] for i in self.in_index]
        self.loss_decode = LOSSES.build(loss_decode if loss_decode is not None else _default_ce())

    def select(self, feats: Sequence[torch.Tensor]):
        if isinstance(self.in_index, int):
            return feats[self.in_index]
        return [feats[i] for i in self.in_index]

    def loss(self, feats: Sequence[torch.Tensor], batch: dict) -> dict:
        logits = self(feats)
        seg = batch['seg']
        ignore = getattr(self.loss_decode, 'ignore_index', 255)
        return {'loss_ce': self.loss_decode(logits, seg),
                'acc_seg': pixel_accuracy(logits, seg, ignore, self.align_corners)}


@DECODE_HEADS.register_module()
class ASPPv2Head(BaseDecodeHead):
    """DeepLab-v2 ASPP (Chen et al., TPAMI 2017; kazuto1011/deeplab-pytorch ``_ASPP``): parallel 3x3 convs with
    dilation ``r`` in ``dilations`` (6, 12, 18, 24), each ``in_channels -> num_classes`` **with bias**, whose
    outputs are **summed**. Weights ~ N(0, 0.01), biases 0 (as deeplab-pytorch)."""

    def __init__(self, in_channels: IntOrSeq, num_classes: int = 21, in_index: int = -1,
                 dilations: Sequence[int] = (6, 12, 18, 24), init_std: float = 0.01,
                 loss_decode: Optional[dict] = None, align_corners: bool = False):
        super().__init__(in_channels, num_classes, in_index, loss_decode, align_corners)
        self.dilations = tuple(dilations)
        self.aspp = nn.ModuleList(
            nn.Conv2d(self.in_channels, num_classes, 3, padding=d, dilation=d, bias=True) for d in self.dilations)
        for conv in self.aspp:
            nn.init.normal_(conv.weight, 0.0, init_std)
            nn.init.zeros_(conv.bias)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        x = self.select(feats)
        return sum(conv(x) for conv in self.aspp)


@DECODE_HEADS.register_module()
class LargeFOVHead(BaseDecodeHead):
    """DeepLab-LargeFOV head (Chen et al., ICLR 2015; SeeNet's segmenter): ``fc6`` 3x3 conv with dilation 12
    -> ReLU -> Dropout -> ``fc7`` 1x1 -> ReLU -> Dropout -> ``conv_seg`` 1x1 to ``num_classes``.
    (On VGG16, fc6/fc7 are 1024-channel convs with dropout 0.5.) fc6/fc7 Kaiming-initialised; conv_seg
    N(0, 0.01)."""

    def __init__(self, in_channels: IntOrSeq, num_classes: int = 21, in_index: int = -1, channels: int = 1024,
                 dilation: int = 12, dropout: float = 0.5, loss_decode: Optional[dict] = None,
                 align_corners: bool = False):
        super().__init__(in_channels, num_classes, in_index, loss_decode, align_corners)
        self.fc6 = nn.Conv2d(self.in_channels, channels, 3, padding=dilation, dilation=dilation)
        self.fc7 = nn.Conv2d(channels, channels, 1)
        self.drop6, self.drop7 = nn.Dropout2d(dropout), nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
        init_conv_bn(self)
        nn.init.normal_(self.conv_seg.weight, 0.0, 0.01)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        x = self.drop6(F.relu(self.fc6(self.select(feats))))
        x = self.drop7(F.relu(self.fc7(x)))
        return self.conv_seg(x)


class ASPPv3(nn.Module):
    """DeepLab-v3 ASPP: image pooling + one branch per dilation (``1`` = a 1x1 conv), each conv-BN-ReLU to
    ``channels``, concatenated and projected by a 1x1 conv-BN-ReLU (+ dropout).
    Note: the image-pooling branch has BatchNorm on a 1x1 map, so training needs batches of >= 2 images."""

    def __init__(self, in_channels: int, channels: int, dilations: Sequence[int], dropout: float = 0.1):
        super().__init__()
        self.image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), conv_bn_relu(in_channels, channels, 1))
        self.branches = nn.ModuleList(
            conv_bn_relu(in_channels, channels, 1) if d == 1 else conv_bn_relu(in_channels, channels, 3, d)
            for d in dilations)
        self.project = nn.Sequential(conv_bn_relu(channels * (len(dilations) + 1), channels, 1), nn.Dropout2d(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.image_pool(x).expand(-1, -1, *x.shape[-2:])
        return self.project(torch.cat([pooled] + [b(x) for b in self.branches], dim=1))


@DECODE_HEADS.register_module()
class ASPPv3PlusHead(BaseDecodeHead):
    """DeepLab-v3+ head (Chen et al., ECCV 2018): ASPP with image pooling on the deep stage, a decoder that
    concatenates the upsampled ASPP output with a 1x1-reduced (``c1_channels`` = 48) low-level stage, two 3x3
    conv-BN-ReLU, dropout and ``conv_seg``. ``in_index=(low, high)``, default ``(0, -1)``; output at the
    low-level stage's resolution (stride 4 on ResNet). ``dilations`` (1, 12, 24, 36) suit OS 8 (use
    (1, 6, 12, 18) at OS 16); ``1`` is the 1x1 branch. Plain (not depthwise-separable) convs, as torchvision;
    mmsegmentation uses separable ones."""

    def __init__(self, in_channels: IntOrSeq, num_classes: int = 21, in_index: Sequence[int] = (0, -1),
                 channels: int = 256, dilations: Sequence[int] = (1, 12, 24, 36), c1_channels: int = 48,
                 dropout: float = 0.1, loss_decode: Optional[dict] = None, align_corners: bool = False):
        super().__init__(in_channels, num_classes, in_index, loss_decode, align_corners)
        if isinstance(self.in_index, int) or len(self.in_index) != 2:
            raise ValueError(f'ASPPv3PlusHead needs in_index=(low, high), got {in_index}')
        c_low, c_high = self.in_channels
        self.aspp = ASPPv3(c_high, channels, dilations, dropout)
        self.c1 = conv_bn_relu(c_low, c1_channels, 1)
        self.fuse = nn.Sequential(conv_bn_relu(channels + c1_channels, channels, 3),
                                  conv_bn_relu(channels, channels, 3))
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
        init_conv_bn(self)
        nn.init.normal_(self.conv_seg.weight, 0.0, 0.01)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        low, high = self.select(feats)
        x = self.aspp(high)
        x = F.interpolate(x, size=low.shape[-2:], mode='bilinear', align_corners=self.align_corners)
        x = self.fuse(torch.cat([x, self.c1(low)], dim=1))
        return self.conv_seg(self.dropout(x))


@DECODE_HEADS.register_module()
class FCNHead(BaseDecodeHead):
    """Plain FCN head: ``num_convs`` 3x3 conv-BN-ReLU -> dropout -> ``conv_seg`` (SANet's dense branch)."""

    def __init__(self, in_channels: IntOrSeq, num_classes: int = 21, in_index: int = -1, channels: int = 256,
                 num_convs: int = 1, dropout: float = 0.1, loss_decode: Optional[dict] = None,
                 align_corners: bool = False):
        super().__init__(in_channels, num_classes, in_index, loss_decode, align_corners)
        layers, c = [], self.in_channels
        for _ in range(num_convs):
            layers.append(conv_bn_relu(c, channels, 3))
            c = channels
        self.convs = nn.Sequential(*layers)
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(c, num_classes, 1)
        init_conv_bn(self)
        nn.init.normal_(self.conv_seg.weight, 0.0, 0.01)

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.conv_seg(self.dropout(self.convs(self.select(feats))))
