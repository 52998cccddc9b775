"""Models: backbones, CAM classifiers, segmenters, saliency models, losses (each behind its registry)."""
