"""PASCAL VOC 2012 constants: class names in the official order and the label palette."""
from __future__ import annotations

VOC_CLASSES = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
               'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
               'train', 'tvmonitor')
#: index 0 is background; 1..20 follow VOC_CLASSES
SEG_CLASSES = ('background',) + VOC_CLASSES
NUM_CLASSES = len(VOC_CLASSES)  # 20 foreground classes
IGNORE_INDEX = 255


def _voc_palette() -> list[int]:
    """The standard VOC colour map (bit-interleaved), 256 RGB triplets flattened."""
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


VOC_PALETTE = _voc_palette()
