"""One registry per kind of thing (mmengine ``Registry``).

A new variant is a new class decorated with ``@REGISTRY.register_module()`` plus a
config that names it with ``type=...``; no ``if`` chains. ``locations`` lets a
registry import the modules that fill it the first time something is built.
"""
from mmengine.registry import Registry

BACKBONES = Registry('backbone', locations=['wsss.models.backbones'])
CAM_MODELS = Registry('CAM model', locations=['wsss.models.cam'])
NECKS = Registry('neck', locations=['wsss.models.cam'])
SEGMENTERS = Registry('segmenter', locations=['wsss.models.segmenters'])
SALIENCY_MODELS = Registry('saliency model', locations=['wsss.models.saliency'])
LOSSES = Registry('loss', locations=['wsss.models.losses', 'wsss.models.cam', 'wsss.models.segmenters',
                                     'wsss.models.saliency'])
SALIENCY_SOURCES = Registry('saliency source', locations=['wsss.saliency'])
PSEUDO_RULES = Registry('pseudo-label rule', locations=['wsss.pseudo'])
DATASETS = Registry('dataset', locations=['wsss.datasets'])

__all__ = ['BACKBONES', 'CAM_MODELS', 'NECKS', 'SEGMENTERS', 'SALIENCY_MODELS', 'LOSSES', 'SALIENCY_SOURCES',
           'PSEUDO_RULES', 'DATASETS']
