"""Segmenter stage: ``train`` a DeepLab / SANet on (pseudo-)label PNGs, ``evaluate`` it as the papers report
(single scale, multi-scale + flip, dense CRF; VOC test-server PNGs for the test split)."""
