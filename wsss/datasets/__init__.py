"""Data sets (VOC layout, DUTS layout) and the synthetic VOC generator."""
from wsss.datasets import duts, voc  # noqa: F401  (register VOCDataset, DUTSDataset)
