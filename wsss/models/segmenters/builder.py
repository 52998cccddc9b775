"""Registry of decode heads used inside the segmenters (``EncoderDecoder(backbone, decode_head)``).

Heads are built from ``dict(type='ASPPv2Head', ...)`` by :class:`~wsss.models.segmenters.encoder_decoder.
EncoderDecoder`; they live in this package, which the registry imports on first use.
"""
from mmengine.registry import Registry

DECODE_HEADS = Registry('decode head', locations=['wsss.models.segmenters'])
