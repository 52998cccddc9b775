"""Pseudo-label stage: ``make`` turns CAMs (+ saliency) into palette PNGs refined by a dense CRF and scores them;
``evaluate`` scores any folder of label PNGs against VOC ground truth."""
