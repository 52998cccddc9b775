"""One registry per kind of thing (mmengine ``Registry``).

A new variant is a new class decorated with ``@REGISTRY.register_module()`` plus a
config that names it with ``type=...``; no ``if`` chains. ``locations`` lets a
registry import the modules that fill it the first time something is built, so
``REGISTRY.build(cfg)`` works without importing the implementing package first.

======================  ==============================================  ===========================================
registry                what it holds                                   filled by
======================  ==============================================  ===========================================
``BACKBONES``           feature extractors (``forward -> [stages]``)    ``wsss.models.backbones``,
                                                                        ``wsss.models.saliency`` (Res2Net, Swin)
``NECKS``               layers between a backbone and the CAM heads     ``wsss.models.cam``
``CAM_HEADS``           CAM methods (plain CAM, EPS, SeeNet, EPS+SeeNet)  ``wsss.models.cam``
``CAM_MODELS``          the CAM classifier (backbone + neck + head)     ``wsss.models.cam``
``DECODE_HEADS``        segmenter heads (ASPP, LargeFOV, SA, ...)       ``wsss.models.segmenters``
``SEGMENTERS``          DeepLab / SANet segmenters                      ``wsss.models.segmenters``
``SALIENCY_MODELS``     salient-object detectors (InSPyReNet)           ``wsss.models.saliency``
``LOSSES``              every loss module                               ``wsss.models.*``
``SALIENCY_SOURCES``    where a stage reads saliency maps from          ``wsss.saliency``
``PSEUDO_RULES``        CAMs (+ saliency) -> label map                  ``wsss.pseudo``
``LABEL_METRICS``       optional statistics of a label folder           ``wsss.metrics``
``DATASETS``            VOC-layout and DUTS-layout data sets            ``wsss.datasets``
``CONFIG_SECTIONS``     the top-level config keys each part reads       the modules that read them (list below)
======================  ==============================================  ===========================================

``CONFIG_SECTIONS`` holds functions ``f(cfg) -> {top-level key: schema}`` (schemas:
:mod:`wsss.engine.config_keys`), each next to the code that reads those keys, so the config-key check (run by
``wsss.engine.config.load_config``) knows every key without importing a higher layer.
"""
from mmengine.registry import Registry

BACKBONES = Registry('backbone', locations=['wsss.models.backbones', 'wsss.models.saliency'])
NECKS = Registry('neck', locations=['wsss.models.cam'])
CAM_HEADS = Registry('CAM head', locations=['wsss.models.cam'])
CAM_MODELS = Registry('CAM model', locations=['wsss.models.cam'])
DECODE_HEADS = Registry('decode head', locations=['wsss.models.segmenters'])
SEGMENTERS = Registry('segmenter', locations=['wsss.models.segmenters'])
SALIENCY_MODELS = Registry('saliency model', locations=['wsss.models.saliency'])
LOSSES = Registry('loss', locations=['wsss.models.losses', 'wsss.models.cam', 'wsss.models.segmenters',
                                     'wsss.models.saliency'])
SALIENCY_SOURCES = Registry('saliency source', locations=['wsss.saliency'])
PSEUDO_RULES = Registry('pseudo-label rule', locations=['wsss.pseudo'])
LABEL_METRICS = Registry('label metric', locations=['wsss.metrics'])
DATASETS = Registry('dataset', locations=['wsss.datasets'])
CONFIG_SECTIONS = Registry('config section', locations=[
    'wsss.engine.config_keys', 'wsss.engine.trainer', 'wsss.datasets.checks', 'wsss.saliency.sources',
    'wsss.stages.pseudo.make', 'wsss.stages.seg.train', 'wsss.stages.saliency.train', 'wsss.stages.saliency.infer'])

__all__ = ['BACKBONES', 'NECKS', 'CAM_HEADS', 'CAM_MODELS', 'DECODE_HEADS', 'SEGMENTERS', 'SALIENCY_MODELS',
           'LOSSES', 'SALIENCY_SOURCES', 'PSEUDO_RULES', 'LABEL_METRICS', 'DATASETS', 'CONFIG_SECTIONS']

#: the registries of built things (every one but ``CONFIG_SECTIONS``): where a config's ``type=`` is looked up
BUILD_REGISTRIES = (BACKBONES, NECKS, CAM_HEADS, CAM_MODELS, DECODE_HEADS, SEGMENTERS, SALIENCY_MODELS, LOSSES,
                    SALIENCY_SOURCES, PSEUDO_RULES, LABEL_METRICS, DATASETS)
