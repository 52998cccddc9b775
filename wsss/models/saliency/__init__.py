"""Saliency models (SALIENCY_MODELS) and their losses: InSPyReNet with Res2Net-50 v1b / Swin-B backbones."""
from wsss.models.saliency import inspyrenet, layers, losses, pyramid, res2net, swin  # noqa: F401
from wsss.models.saliency.inspyrenet import (InSPyReNet, describe_backbone, inspyrenet_res2net50,
                                             inspyrenet_swinb, load_inspyrenet_checkpoint)
from wsss.models.saliency.losses import InSPyReNetLoss
from wsss.models.saliency.res2net import Res2NetV1b
from wsss.models.saliency.swin import SwinTransformerV1

__all__ = ['InSPyReNet', 'InSPyReNetLoss', 'Res2NetV1b', 'SwinTransformerV1', 'describe_backbone',
           'inspyrenet_res2net50', 'inspyrenet_swinb', 'load_inspyrenet_checkpoint']
