"""CAM classifier (backbone + neck + one head) and the CAM methods as heads: plain CAM, EPS, SeeNet, EPS+SeeNet."""
from wsss.models.cam import (cam_classifier, cam_head, eps_head, eps_loss, eps_seenet_head, neck,  # noqa: F401
                             seenet, seenet_head)
from wsss.models.cam.cam_classifier import CAMClassifier
from wsss.models.cam.cam_head import CAMHead
from wsss.models.cam.eps_head import EPSHead
from wsss.models.cam.eps_loss import EPSSaliencyLoss, eps_overlap_ratio, eps_saliency_loss
from wsss.models.cam.eps_seenet_head import EPSSeeNetHead
from wsss.models.cam.neck import ConvNeck
from wsss.models.cam.seenet_head import SeeNetHead

__all__ = ['CAMClassifier', 'CAMHead', 'ConvNeck', 'EPSHead', 'EPSSaliencyLoss', 'EPSSeeNetHead',
           'SeeNetHead', 'eps_overlap_ratio', 'eps_saliency_loss']
