"""Evaluation metrics: pure functions and accumulators, one job per module.

- ``iou``: mmseg-compatible confusion matrix, IoU / mIoU / aAcc / mAcc (every mIoU of the project);
- ``label_dirs``: a folder of label PNGs evaluated against ground truth, or validated before training;
- ``regions``: where labels fire on the synthetic set's regions (``SyntheticRegionStats``, a ``LABEL_METRICS``
  entry that configs plug into the pseudo-label stage);
- ``sod``: salient-object metrics (MAE, max F, S, mean E) over PySODMetrics.
"""
from wsss.metrics import regions  # noqa: F401  (registers SyntheticRegionStats)
from wsss.metrics.iou import ConfusionMatrix, areas_from_confusion, confusion_matrix, evaluate_pairs, metrics_from_areas

__all__ = ['ConfusionMatrix', 'areas_from_confusion', 'confusion_matrix', 'evaluate_pairs', 'metrics_from_areas']
