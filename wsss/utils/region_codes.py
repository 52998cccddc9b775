"""Region codes of the synthetic set's ``SyntheticRegions/<id>.png`` maps (mode L, image size).

Written by the generator (:mod:`wsss.datasets.synthetic`) and read by the region statistics
(:mod:`wsss.metrics.regions`); both import them from here, the bottom layer.
"""
from wsss.utils.voc_meta import IGNORE_INDEX

#: folder of the region maps under a synthetic data root
REGIONS_DIR = 'SyntheticRegions'

REGION_BACKGROUND = 0  #: plain background (shared texture and distractors)
REGION_CONTEXT = 1  #: class-specific context (labelled background in SegmentationClass)
REGION_BODY = 2  #: object body (class-agnostic appearance)
REGION_PART = 3  #: discriminative part (class-specific appearance)
REGION_IGNORE = IGNORE_INDEX  #: boundary band, 255 in SegmentationClass as well
REGION_CODES = {'background': REGION_BACKGROUND, 'context': REGION_CONTEXT, 'body': REGION_BODY,
                'part': REGION_PART, 'ignore': REGION_IGNORE}
