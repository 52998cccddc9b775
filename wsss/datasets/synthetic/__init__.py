"""Synthetic PASCAL-VOC-format data set: the project's embedded default data set.

Every image is rendered from a seed with vectorised numpy (coordinate grids, no per-pixel loops) and
written in exactly the PASCAL VOC 2012 layout, plus what the WSSS methods need to show their effect:

* Each of the 20 VOC classes has a small, highly discriminative **part** (8-10 % of the object's area,
  13-28 px across at 128 px, median 17 px: about 2 cells of a stride-8 CAM) with a class-specific colour and
  texture (a unique saturated hue, a pattern among stripes / checker / dots / rings / grid, a black or white
  second colour, a disc or square outline), placed inside a larger **body** whose shape (ellipse, rectangle,
  superellipse, blob, polygon, two-lobe), colour and texture come from a pool shared by all classes: the body
  does not say which class it is, so a plain CAM fires on the part only (what SeeNet's self-erasing fixes).
* Each class has its own background **context** (rails under trains, water under boats, sky around
  aeroplanes, grass under cows, ... 20 distinct textures, see :data:`CONTEXTS`), present in ~95 % of the
  class's images and in a few percent of the images without that class, sometimes adjacent to the object
  and sometimes apart from it. It is background (0) in ``SegmentationClass`` and code
  :data:`REGION_CONTEXT` in ``SyntheticRegions``: a plain CAM leaks onto it (what EPS's saliency loss
  fixes).
* 1-3 objects of 1-3 classes per image, occlusion (later objects cover earlier ones), distractor
  shapes drawn from the shared body pool, a random shared background texture, mild blur and noise.

Any image can be regenerated alone: its randomness comes only from
``numpy.random.default_rng([seed, split_code, index, stream])`` (see :func:`render_sample`,
:func:`render_by_id`).

Modules, one job each:

* :mod:`~wsss.datasets.synthetic.params`: the constants (version, defaults, split codes and ids, rendering
  and saliency-simulation parameters, part and context tables);
* :mod:`~wsss.datasets.synthetic.shapes`: coordinate grid, shape / part / context-region masks, small
  vectorised helpers (colours, value noise, blending);
* :mod:`~wsss.datasets.synthetic.filters`: Gaussian blur and boundary ignore band;
* :mod:`~wsss.datasets.synthetic.textures`: background, body, part and context textures;
* :mod:`~wsss.datasets.synthetic.scene`: one sample (:func:`render_sample`) and the image ids;
* :mod:`~wsss.datasets.synthetic.saliency`: the simulated good / poor saliency maps;
* :mod:`~wsss.datasets.synthetic.writer`: the data set on disk (:func:`generate`), its README and
  ``meta.json``, reusing or refusing a data root (:func:`ensure_synthetic`).

The constants re-exported here are copies: to override one (a design sweep), set it on
:mod:`wsss.datasets.synthetic.params`, which every module reads when it runs.
"""
from wsss.datasets.synthetic import params
from wsss.datasets.synthetic.params import (BODY_SHAPES, BODY_TEXTURES, BOUNDARY_RADIUS, CONTEXT_SIZE, CONTEXTS,
                                            DEFAULTS, GENERATOR_NAME, GENERATOR_VERSION, ID_PREFIX, JPEG_QUALITY,
                                            MIN_VISIBLE_CONTEXT, MIN_VISIBLE_OBJECT, MIN_VISIBLE_PART,
                                            OBJ_EXTENT_MULTI, OBJ_EXTENT_SINGLE, P_CONTEXT_ADJACENT,
                                            P_FOREIGN_CONTEXT, P_OWN_CONTEXT, P_SECOND_CLASS, P_THIRD_CLASS,
                                            PART_ACROSS, PART_FRACTION, PART_PATTERNS, PART_SPECS, SAL_GOOD_BLUR,
                                            SAL_GOOD_NOISE, SAL_POOR_BLUR, SAL_POOR_CONTEXT, SAL_POOR_MISS,
                                            SAL_POOR_NOISE, SOD_PREFIX, SOD_TRAIN_FRACTION, SPLIT_CODES,
                                            VAL_ID_OFFSET)
from wsss.datasets.synthetic.saliency import saliency_maps
from wsss.datasets.synthetic.scene import (Sample, SyntheticContext, SyntheticObject, image_id, parse_id,
                                           render_by_id, render_sample, sample_rng)
from wsss.datasets.synthetic.shapes import part_mask, shape_mask
from wsss.datasets.synthetic.textures import background_texture, body_texture, context_texture, part_texture
from wsss.datasets.synthetic.writer import class_table, ensure_synthetic, generate, pixel_fractions, read_synthetic_meta
from wsss.utils.region_codes import (REGION_BACKGROUND, REGION_BODY, REGION_CODES, REGION_CONTEXT, REGION_IGNORE,
                                     REGION_PART, REGIONS_DIR)

__all__ = [
    'params',
    # constants
    'BODY_SHAPES', 'BODY_TEXTURES', 'BOUNDARY_RADIUS', 'CONTEXT_SIZE', 'CONTEXTS', 'DEFAULTS', 'GENERATOR_NAME',
    'GENERATOR_VERSION', 'ID_PREFIX', 'JPEG_QUALITY', 'MIN_VISIBLE_CONTEXT', 'MIN_VISIBLE_OBJECT',
    'MIN_VISIBLE_PART', 'OBJ_EXTENT_MULTI', 'OBJ_EXTENT_SINGLE', 'P_CONTEXT_ADJACENT', 'P_FOREIGN_CONTEXT',
    'P_OWN_CONTEXT', 'P_SECOND_CLASS', 'P_THIRD_CLASS', 'PART_ACROSS', 'PART_FRACTION', 'PART_PATTERNS',
    'PART_SPECS', 'SAL_GOOD_BLUR', 'SAL_GOOD_NOISE', 'SAL_POOR_BLUR', 'SAL_POOR_CONTEXT', 'SAL_POOR_MISS',
    'SAL_POOR_NOISE', 'SOD_PREFIX', 'SOD_TRAIN_FRACTION', 'SPLIT_CODES', 'VAL_ID_OFFSET',
    # region codes (defined in wsss.utils.region_codes)
    'REGION_BACKGROUND', 'REGION_BODY', 'REGION_CODES', 'REGION_CONTEXT', 'REGION_IGNORE', 'REGION_PART',
    'REGIONS_DIR',
    # rendering
    'Sample', 'SyntheticContext', 'SyntheticObject', 'image_id', 'parse_id', 'render_by_id', 'render_sample',
    'sample_rng', 'part_mask', 'shape_mask', 'background_texture', 'body_texture', 'context_texture',
    'part_texture', 'saliency_maps',
    # writing and reading a data root
    'class_table', 'ensure_synthetic', 'generate', 'pixel_fractions',
    'read_synthetic_meta',
]
