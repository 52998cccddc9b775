"""CAM classifiers (plain CAM, EPS, SeeNet, EPS+SeeNet as configs of ``CAMClassifier``) and their losses."""
from wsss.models.cam import cam_classifier, cls_loss, eps_loss, seenet  # noqa: F401
from wsss.models.cam.cam_classifier import CAMClassifier
from wsss.models.cam.cls_loss import MultiLabelSoftMarginLoss
from wsss.models.cam.eps_loss import EPSSaliencyLoss, eps_overlap_ratio, eps_saliency_loss

__all__ = ['CAMClassifier', 'EPSSaliencyLoss', 'MultiLabelSoftMarginLoss', 'eps_overlap_ratio',
           'eps_saliency_loss']
