"""Evaluation metrics. Import-light: only numpy is imported here (torch / mmengine lazily).

``wsss.metrics.iou``: mmseg-compatible confusion matrix, IoU / mIoU / aAcc / mAcc.
Other modules of this package (e.g. ``wsss.metrics.regions``) are imported explicitly by their users.
"""
from .iou import ConfusionMatrix, areas_from_confusion, confusion_matrix, evaluate_pairs, metrics_from_areas

__all__ = ['ConfusionMatrix', 'areas_from_confusion', 'confusion_matrix', 'evaluate_pairs', 'metrics_from_areas']
