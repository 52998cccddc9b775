"""The generator's constants: version, default arguments, split codes and id scheme, rendering and
saliency-simulation parameters, and the class-specific part and context tables.

The other modules of :mod:`wsss.datasets.synthetic` read these as ``params.NAME`` when they run (never
``from ... import NAME``), so overriding one attribute of this module (as
``benchmarks/synthetic_design_sweep.py`` does for its variants) reaches the renderer, the saliency
simulation, ``meta.json`` and the README alike. Rendering lengths are in pixels at size 128; everything
scales with size / 128.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator

from wsss.utils.voc_meta import NUM_CLASSES

#: ``meta.json``'s ``generator`` field: what marks a data root as made by this package
GENERATOR_NAME = 'wsss.datasets.synthetic'
#: written to ``meta.json``; a data root made by another version is refused (its images differ).
#: 1.2: Gaussian blur by scipy.ndimage (double-precision sums): +-1 on ~5e-6 of the pixels against 1.1
GENERATOR_VERSION = '1.2'

#: split -> code mixed into the per-image seed
SPLIT_CODES = {'train': 0, 'val': 1, 'sod': 2}
#: val ids are ``syn_{VAL_ID_OFFSET + index:06d}`` so train and val stay disjoint whatever their sizes
VAL_ID_OFFSET = 100000
ID_PREFIX = 'syn_'
SOD_PREFIX = 'sod_'
SOD_TRAIN_FRACTION = 0.8
JPEG_QUALITY = 95

DEFAULTS = dict(num_train=400, num_val=150, num_sod=300, size=128, seed=0)

# Rendering parameters (in pixels at size 128; everything scales with size / 128).
P_SECOND_CLASS = 0.30  #: probability of a 2nd class (a 3rd one with P_THIRD_CLASS)
P_THIRD_CLASS = 0.05
P_OWN_CONTEXT = 0.95  #: probability that a present class brings its context
P_FOREIGN_CONTEXT = 0.35  #: probability that an image carries the context of one absent class
P_FOREIGN_CONTEXT_EACH = None  #: if set: each absent class brings its context independently with this probability
#: (instead of the one draw of P_FOREIGN_CONTEXT); 0.03 = "a class's context in ~3 % of the images without it"
P_CONTEXT_ADJACENT = 0.6  #: adjacent to an object of its class vs. placed apart
CONTEXT_SIZE = 0.5  #: scales the context regions' sizes (band height, panel width, margins)
MIN_VISIBLE_CONTEXT = 0.3  #: an adjacent context hidden beyond this share by the objects is placed apart
OBJ_EXTENT_SINGLE = (66.0, 92.0)  #: major extent of a lone object
OBJ_EXTENT_MULTI = (54.0, 74.0)  #: major extent when there are several objects
PART_ACROSS = (20.0, 26.0)  #: target part diameter / side, before PART_FRACTION clips it
PART_FRACTION = (0.08, 0.10)  #: part area / object area is clipped to this range
#: 0: the part's centre anywhere it fits inside the body; q > 0: only among the fitting centres farthest from the
#: body's centroid (the top 1 - q of them), i.e. the part at the body's extremity
PART_EXTREMITY = 0.0
MIN_VISIBLE_OBJECT = 0.45  #: an occluded object keeps at least this share of its area
MIN_VISIBLE_PART = 0.7  #: ... and of its part
BOUNDARY_RADIUS = 1.0  #: ignore band = pixels within this (Chebyshev) radius of another instance

# Saliency simulation (Gaussian sigma in px at 128 px, noise amplitude on the [0, 1] scale)
SAL_GOOD_BLUR, SAL_GOOD_NOISE = 1.2, 0.03
SAL_POOR_BLUR, SAL_POOR_NOISE = 3.0, 0.06
SAL_POOR_MISS = 0.30  #: poor saliency misses each object with this probability
SAL_POOR_CONTEXT = 0.40  #: ... and fires on the visible contexts in this share of images

PART_PATTERNS = ('stripes', 'checker', 'dots', 'rings', 'grid')
BODY_SHAPES = ('ellipse', 'rectangle', 'superellipse', 'blob', 'polygon', 'two_lobe')
BODY_TEXTURES = ('flat', 'grain', 'spots', 'coarse_stripes', 'two_tone')


def _part_specs() -> list[dict]:
    """Class-specific part appearance: a unique hue (18 degree steps, permuted so neighbouring class
    indices are far apart), a pattern, a black or white second colour and an outline."""
    specs = []
    for c in range(NUM_CLASSES):
        specs.append(dict(hue=round(((c * 7) % NUM_CLASSES) / NUM_CLASSES, 4),
                          pattern=PART_PATTERNS[c % len(PART_PATTERNS)],
                          second='black' if (c // len(PART_PATTERNS)) % 2 == 0 else 'white',
                          shape='disc' if c % 2 == 0 else 'square',
                          angle_deg=(c * 37) % 180,
                          period_px=5.0 + (c % 3) * 0.5))
    return specs


#: class index (0-based, VOC order) -> part appearance
PART_SPECS = _part_specs()

#: class index (0-based, VOC order) -> (context name, placement, edge style)
#: placement: 'under' (ground band below the object), 'around' (region behind and around the object),
#: 'side' (panel beside the object); edge: 'straight', 'wavy', 'ragged', 'ellipse'
CONTEXTS = (
    ('sky', 'around', 'straight'),  # aeroplane
    ('bike_lane', 'under', 'straight'),  # bicycle
    ('branches', 'side', 'ragged'),  # bird
    ('water', 'under', 'wavy'),  # boat
    ('shelf', 'under', 'straight'),  # bottle
    ('bus_road', 'under', 'straight'),  # bus
    ('parking', 'under', 'straight'),  # car
    ('rug', 'under', 'ellipse'),  # cat
    ('tiles', 'under', 'straight'),  # chair
    ('grass', 'under', 'ragged'),  # cow
    ('gingham', 'around', 'straight'),  # diningtable
    ('picket_fence', 'side', 'straight'),  # dog
    ('paddock', 'under', 'ragged'),  # horse
    ('kerb', 'under', 'straight'),  # motorbike
    ('bricks', 'side', 'straight'),  # person
    ('window', 'side', 'straight'),  # pottedplant
    ('meadow', 'under', 'ragged'),  # sheep
    ('wallpaper', 'around', 'straight'),  # sofa
    ('rails', 'under', 'straight'),  # train
    ('bookshelf', 'side', 'straight'),  # tvmonitor
)
assert len(CONTEXTS) == NUM_CLASSES and len({c[0] for c in CONTEXTS}) == NUM_CLASSES


@contextmanager
def overridden(**values: Any) -> Iterator[None]:
    """Replace generator constants of this module for the duration (a data-set variant), then restore them.
    Unknown names are an error; ``meta.json`` of a set generated inside records the values in use."""
    module = sys.modules[__name__]
    unknown = sorted(k for k in values if not k.isupper() or not hasattr(module, k))
    if unknown:
        raise KeyError(f'no generator constant {unknown} in {__name__}')
    saved = {k: getattr(module, k) for k in values}
    try:
        for k, v in values.items():
            setattr(module, k, tuple(v) if isinstance(v, list) else v)
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)
