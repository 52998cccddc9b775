"""Data sets (VOC layout, DUTS layout) and the synthetic VOC generator."""
from wsss.datasets import duts, voc  # noqa: F401  (register VOCDataset, DUTSDataset)
from wsss.registry import DATASETS


def build_dataset(cfg, which: str = 'infer_dataset', **overrides):
    """The data set of config section ``which`` (``train_dataset`` / ``infer_dataset``) with the config's
    top-level ``data_root`` and the given overrides (``split``, ``mode``, ``saliency``, ...)."""
    return DATASETS.build({'data_root': cfg.data_root, **dict(cfg.get(which, {})), **overrides})
