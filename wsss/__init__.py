"""wsss: staged weakly supervised semantic segmentation (saliency -> CAM -> pseudo-labels -> segmenter)."""
__version__ = '0.1.0'
