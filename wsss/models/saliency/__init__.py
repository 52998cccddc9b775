"""Saliency models (SALIENCY_MODELS) and their losses: InSPyReNet with Res2Net-50 v1b / Swin-B backbones, BiRefNet
with Swin-L / Swin-T."""
from wsss.models.saliency import (birefnet, birefnet_loss, deform_aspp, inspyrenet, layers, losses,  # noqa: F401
                                  pyramid, res2net, swin)
from wsss.models.saliency.birefnet import (BiRefNet, birefnet_swin_v1_l, birefnet_swin_v1_t,
                                           describe_birefnet_backbone, load_birefnet_checkpoint)
from wsss.models.saliency.birefnet_loss import BiRefNetLoss
from wsss.models.saliency.deform_aspp import ASPPDeformable, DeformableConv2d
from wsss.models.saliency.inspyrenet import (InSPyReNet, describe_backbone, inspyrenet_res2net50,
                                             inspyrenet_swinb, load_inspyrenet_checkpoint)
from wsss.models.saliency.losses import InSPyReNetLoss
from wsss.models.saliency.res2net import Res2NetV1b
from wsss.models.saliency.swin import SwinTransformerV1

__all__ = ['ASPPDeformable', 'BiRefNet', 'BiRefNetLoss', 'DeformableConv2d', 'InSPyReNet', 'InSPyReNetLoss',
           'Res2NetV1b', 'SwinTransformerV1', 'birefnet_swin_v1_l', 'birefnet_swin_v1_t', 'describe_backbone',
           'describe_birefnet_backbone', 'inspyrenet_res2net50', 'inspyrenet_swinb', 'load_birefnet_checkpoint',
           'load_inspyrenet_checkpoint']
