"""Saliency models (SALIENCY_MODELS) and their losses: InSPyReNet with Res2Net-50 v1b / Swin-B backbones."""
from wsss.models.saliency import inspyrenet, layers, losses, pyramid, res2net, swin  # noqa: F401
from wsss.models.saliency.inspyrenet import (InSPyReNet, describe_backbone, inspyrenet_res2net50,  # noqa: F401
                                             inspyrenet_swinb, load_inspyrenet_checkpoint)
