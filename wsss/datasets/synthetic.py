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
"""
from __future__ import annotations

import colorsys
import io
import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from wsss.utils.io import atomic_write_bytes, atomic_write_json, save_gray_png, save_label_png
from wsss.utils.region_codes import (REGION_BACKGROUND, REGION_BODY, REGION_CODES, REGION_CONTEXT, REGION_IGNORE,
                                     REGION_PART, REGIONS_DIR)
from wsss.utils.voc_meta import IGNORE_INDEX, NUM_CLASSES, VOC_CLASSES

GENERATOR_VERSION = '1.1'

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
P_CONTEXT_ADJACENT = 0.6  #: adjacent to an object of its class vs. placed apart
CONTEXT_SIZE = 0.5  #: scales the context regions' sizes (band height, panel width, margins)
MIN_VISIBLE_CONTEXT = 0.3  #: an adjacent context hidden beyond this share by the objects is placed apart
OBJ_EXTENT_SINGLE = (66.0, 92.0)  #: major extent of a lone object
OBJ_EXTENT_MULTI = (54.0, 74.0)  #: major extent when there are several objects
PART_ACROSS = (20.0, 26.0)  #: target part diameter / side, before PART_FRACTION clips it
PART_FRACTION = (0.08, 0.10)  #: part area / object area is clipped to this range
MIN_VISIBLE_OBJECT = 0.45  #: an occluded object keeps at least this share of its area
MIN_VISIBLE_PART = 0.7  #: ... and of its part
BOUNDARY_RADIUS = 1.0  #: ignore band = pixels within this (Chebyshev) radius of another instance
# saliency simulation
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


# ----------------------------------------------------------------------------------------------------
# Small vectorised helpers
# ----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32) + 0.5, np.arange(w, dtype=np.float32) + 0.5,
                         indexing='ij')
    yy.flags.writeable = False
    xx.flags.writeable = False
    return yy, xx


def _rgb(*c) -> np.ndarray:
    return np.asarray(c, dtype=np.float32)


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.asarray(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


@lru_cache(maxsize=64)
def _interp_index(n: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Lattice index and smooth-step weight of each of n pixels on a coarse lattice of ``cells`` cells."""
    t = (np.arange(n) + 0.5) / n * cells
    i = np.clip(np.floor(t).astype(np.intp), 0, cells - 1)
    f = (t - i).astype(np.float32)
    f = f * f * (3 - 2 * f)
    i.flags.writeable = False
    f.flags.writeable = False
    return i, f


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cy: int, cx: int | None = None) -> np.ndarray:
    """Value noise in [0, 1]: a random (cy+1, cx+1) lattice smoothly interpolated to (h, w).

    Element-wise gathers only (no BLAS call: multi-threaded BLAS on tiny matrices is slow on a shared box).
    """
    cx = cy if cx is None else cx
    g = rng.random((cy + 1, cx + 1), dtype=np.float32)
    iy, fy = _interp_index(h, cy)
    ix, fx = _interp_index(w, cx)
    rows = g[iy] * (1 - fy)[:, None] + g[iy + 1] * fy[:, None]  # (h, cx+1)
    return rows[:, ix] * (1 - fx) + rows[:, ix + 1] * fx


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-pixel blend of colours (3,) or images (H,W,3) a, b by t (H,W) in [0, 1]."""
    t = t[..., None]
    return a * (1 - t) + b * t


def _two_colour(mask: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    return np.where(mask[..., None], c1, c0).astype(np.float32)


def _gauss_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an (H, W) or (H, W, C) float array, reflect padding (numpy only)."""
    if sigma <= 0:
        return a
    r = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1, dtype=np.float32) / sigma) ** 2)
    k /= k.sum()
    out = a.astype(np.float32)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode='reflect')
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for j in range(2 * r + 1):
            acc += k[j] * np.take(p, np.arange(j, j + n), axis=axis)
        out = acc
    return out


def _boundary_band(inst: np.ndarray, radius: int) -> np.ndarray:
    """Pixels having, within Chebyshev distance ``radius``, a pixel of another instance (0 = background)."""
    h, w = inst.shape
    p = np.pad(inst, radius, mode='edge')
    band = np.zeros((h, w), dtype=bool)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy or dx:
                band |= p[radius + dy:radius + dy + h, radius + dx:radius + dx + w] != inst
    return band


def _jittered_points(rng, yy, xx, period: float, jitter: float = 1.0):
    """Distance from each pixel to the random point of its lattice cell (a cheap scattered-dot field)."""
    h, w = yy.shape
    ny, nx = int(np.ceil(h / period)) + 1, int(np.ceil(w / period)) + 1
    off = rng.random((ny, nx, 2), dtype=np.float32) * jitter + (1 - jitter) / 2
    iy = np.floor(yy / period).astype(int)
    ix = np.floor(xx / period).astype(int)
    py = (iy + off[iy, ix, 0]) * period
    px = (ix + off[iy, ix, 1]) * period
    return np.sqrt((yy - py) ** 2 + (xx - px) ** 2), iy, ix


# ----------------------------------------------------------------------------------------------------
# Shapes (boolean masks on the coordinate grid)
# ----------------------------------------------------------------------------------------------------
def _local(yy, xx, cy, cx, angle):
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = xx - cx, yy - cy
    return dx * c + dy * s, -dx * s + dy * c


def shape_mask(rng: np.random.Generator, yy, xx, kind: str, cy: float, cx: float, extent: float,
               aspect: float, angle: float) -> np.ndarray:
    """A body/distractor shape of major extent ``extent`` (px) centred on (cy, cx)."""
    u, v = _local(yy, xx, cy, cx, angle)
    a = extent / 2.0
    b = a / aspect
    if kind == 'ellipse':
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0
    if kind == 'rectangle':
        a, b = 0.88 * a, 0.88 * b
        return (np.abs(u) <= a) & (np.abs(v) <= b)
    if kind == 'superellipse':
        p = rng.uniform(2.8, 5.0)
        return np.abs(u / a) ** p + np.abs(v / b) ** p <= 1.0
    if kind == 'blob':
        vs = v * aspect
        th = np.arctan2(vs, u)
        rr = np.sqrt(u ** 2 + vs ** 2)
        r = np.ones_like(th)
        for k in (2, 3, 4):
            r = r + rng.uniform(0.0, 0.12) * np.cos(k * th + rng.uniform(0, 2 * np.pi))
        return rr <= a * r / 1.1
    if kind == 'polygon':
        k = int(rng.integers(5, 9))
        step = 2 * np.pi / k
        th = np.arange(k) * step + rng.uniform(-0.35, 0.35, k) * step + rng.uniform(0, 2 * np.pi)
        vx, vy = a * np.cos(th), b * np.sin(th)
        inside_pos = np.ones(u.shape, dtype=bool)
        inside_neg = np.ones(u.shape, dtype=bool)
        for i in range(k):
            x1, y1, x2, y2 = vx[i], vy[i], vx[(i + 1) % k], vy[(i + 1) % k]
            cross = (x2 - x1) * (v - y1) - (y2 - y1) * (u - x1)
            inside_pos &= cross >= 0
            inside_neg &= cross <= 0
        return inside_pos | inside_neg
    if kind == 'two_lobe':
        a1 = 0.36 * extent
        b1 = a1 / aspect
        r2 = 0.2 * extent
        main = ((u + 0.14 * extent) / a1) ** 2 + (v / b1) ** 2 <= 1.0
        head = (u - 0.3 * extent) ** 2 + v ** 2 <= r2 ** 2
        return main | head
    if kind == 'line':
        return (np.abs(u) <= a) & (np.abs(v) <= max(1.0, b))
    raise ValueError(f'unknown shape {kind!r}')


# ----------------------------------------------------------------------------------------------------
# Textures: shared pools (background, bodies, distractors) and class-specific parts and contexts
# ----------------------------------------------------------------------------------------------------
def _muted_colour(rng) -> np.ndarray:
    return _hsv(rng.random(), rng.uniform(0.08, 0.45), rng.uniform(0.3, 0.85))


def background_texture(rng, yy, xx, s: float) -> np.ndarray:
    """Shared background: two muted colours blended by low-frequency noise, plus grain and a gradient."""
    h, w = yy.shape
    c0, c1 = _muted_colour(rng), _muted_colour(rng)
    t = _smooth_noise(rng, h, w, int(rng.integers(2, 6)))
    img = _mix(c0, c1, t)
    grad = 1.0 + rng.uniform(-0.15, 0.15) * (yy / h - 0.5) + rng.uniform(-0.15, 0.15) * (xx / w - 0.5)
    img = img * grad[..., None]
    fine = _smooth_noise(rng, h, w, max(2, int(h / (3 * s))))
    return img + (fine[..., None] - 0.5) * rng.uniform(0.04, 0.12)


def body_texture(rng, yy, xx, s: float, cy: float, cx: float, extent: float) -> np.ndarray:
    """Shared body/distractor appearance: a muted colour with one of :data:`BODY_TEXTURES`, shaded."""
    h, w = yy.shape
    c0 = _muted_colour(rng)
    c1 = np.clip(c0 * rng.uniform(0.6, 1.4) + rng.uniform(-0.08, 0.08, 3).astype(np.float32), 0, 1)
    kind = BODY_TEXTURES[int(rng.integers(len(BODY_TEXTURES)))]
    if kind == 'flat':
        img = np.broadcast_to(c0, yy.shape + (3,)).astype(np.float32)
    elif kind == 'grain':
        n = _smooth_noise(rng, h, w, max(2, int(h / (2.5 * s))))
        img = _mix(c0, c1, n)
    elif kind == 'spots':
        n = _smooth_noise(rng, h, w, max(2, int(h / (14 * s))))
        img = _mix(c0, c1, np.clip((n - 0.45) * 6, 0, 1))
    elif kind == 'coarse_stripes':
        u, _ = _local(yy, xx, cy, cx, rng.uniform(0, np.pi))
        period = rng.uniform(10, 18) * s
        img = _mix(c0, c1, 0.5 + 0.5 * np.sin(2 * np.pi * u / period))
    else:  # two_tone
        u, _ = _local(yy, xx, cy, cx, rng.uniform(0, 2 * np.pi))
        img = _mix(c0, c1, np.clip(u / (0.1 * extent) + 0.5, 0, 1))
    shade = 1.0 - 0.22 * np.clip(((yy - cy) ** 2 + (xx - cx) ** 2) / (0.5 * extent) ** 2, 0, 1)
    return img * shade[..., None]


def part_texture(rng, yy, xx, s: float, cls: int, cy: float, cx: float) -> np.ndarray:
    """Class-specific part appearance (:data:`PART_SPECS`), pattern anchored at the part centre."""
    spec = PART_SPECS[cls]
    primary = _hsv(spec['hue'] + rng.uniform(-0.008, 0.008), rng.uniform(0.85, 1.0), rng.uniform(0.85, 1.0))
    second = _rgb(0.07, 0.07, 0.08) if spec['second'] == 'black' else _rgb(0.96, 0.96, 0.94)
    p = spec['period_px'] * s
    u, v = _local(yy, xx, cy, cx, np.deg2rad(spec['angle_deg']))
    pat = spec['pattern']
    if pat == 'stripes':
        m = np.mod(u, p) < p / 2
    elif pat == 'checker':
        m = (np.floor(u / (p / 2)) + np.floor(v / (p / 2))) % 2 == 0
    elif pat == 'dots':
        m = (np.mod(u, p) - p / 2) ** 2 + (np.mod(v, p) - p / 2) ** 2 > (0.3 * p) ** 2
    elif pat == 'rings':
        m = np.mod(np.sqrt(u ** 2 + v ** 2), p) < p / 2
    else:  # grid
        m = (np.mod(u, p) >= 0.35 * p) & (np.mod(v, p) >= 0.35 * p)
    return _two_colour(m, second, primary)


def part_mask(yy, xx, cls: int, cy: float, cx: float, across: float) -> np.ndarray:
    r = across / 2.0
    if PART_SPECS[cls]['shape'] == 'disc':
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    return (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r)


def _part_area(cls: int, across: float) -> float:
    return np.pi * across ** 2 / 4 if PART_SPECS[cls]['shape'] == 'disc' else across ** 2


def context_texture(rng, yy, xx, s: float, name: str, box) -> np.ndarray:
    """Class-specific context texture over the full grid; ``box`` = (y0, x0, y1, x1) of its region."""
    h, w = yy.shape
    y0, x0, y1, x1 = box
    bh = max(y1 - y0, 1.0)
    grain = (_smooth_noise(rng, h, w, max(2, int(h / (2.5 * s))))[..., None] - 0.5) * 0.08
    ph = rng.uniform(0, 100)
    if name == 'sky':
        t = np.clip((yy - y0) / bh, 0, 1)
        img = _mix(_rgb(0.33, 0.55, 0.92), _rgb(0.78, 0.88, 1.0), t)
        cloud = np.clip((_smooth_noise(rng, h, w, 4, 6) - 0.55) * 5, 0, 1)
        img = _mix(img, _rgb(0.97, 0.97, 0.98), cloud)
        grain = grain * 0.3
    elif name == 'bike_lane':
        img = np.broadcast_to(_rgb(0.2, 0.52, 0.36), yy.shape + (3,))
        rel = yy - y0
        line = (np.abs(rel - 0.18 * bh) < 1.2 * s) | (np.abs(rel - 0.82 * bh) < 1.2 * s)
        dash = (np.abs(rel - 0.5 * bh) < 1.0 * s) & (np.mod(xx + ph, 10 * s) < 5 * s)
        img = _two_colour(line | dash, img, _rgb(0.95, 0.95, 0.92))
    elif name == 'branches':
        img = np.broadcast_to(_rgb(0.74, 0.82, 0.62), yy.shape + (3,))
        u, _ = _local(yy, xx, 0, ph, 0.6)
        u2, _ = _local(yy, xx, 0, ph * 1.7, -0.9)
        br = (np.mod(u, 15 * s) < 2.2 * s) | (np.mod(u2, 23 * s) < 1.6 * s)
        leaf = _jittered_points(rng, yy, xx, 7 * s)[0] < 1.6 * s
        img = _two_colour(leaf, img, _rgb(0.2, 0.45, 0.15))
        img = _two_colour(br, img, _rgb(0.35, 0.22, 0.1))
    elif name == 'water':
        wave = np.sin(2 * np.pi * (yy / (6 * s) + 0.35 * np.sin(2 * np.pi * xx / (22 * s) + ph)))
        img = _mix(_rgb(0.06, 0.24, 0.52), _rgb(0.15, 0.38, 0.7), 0.5 + 0.5 * wave)
        img = _two_colour(wave > 0.8, img, _rgb(0.6, 0.8, 0.97))
    elif name == 'shelf':
        n = _smooth_noise(rng, h, w, max(2, int(h / (12 * s))), max(2, int(w / (40 * s))))
        grain_w = 0.5 + 0.5 * np.sin(2 * np.pi * yy / (3 * s) + 6 * n)
        img = _mix(_rgb(0.52, 0.33, 0.17), _rgb(0.68, 0.46, 0.26), grain_w)
        seam = (np.mod(xx + ph, 22 * s) < 1.5 * s) | (np.abs(yy - y0 - 2 * s) < 1.5 * s)
        img = _two_colour(seam, img, _rgb(0.25, 0.15, 0.08))
    elif name == 'bus_road':
        img = np.broadcast_to(_rgb(0.27, 0.27, 0.29), yy.shape + (3,))
        rel = yy - y0
        dash = (np.abs(rel - 0.55 * bh) < 1.5 * s) & (np.mod(xx + ph, 20 * s) < 12 * s)
        edge = np.abs(rel - 0.12 * bh) < 1.0 * s
        img = _two_colour(edge, img, _rgb(0.9, 0.9, 0.9))
        img = _two_colour(dash, img, _rgb(0.95, 0.8, 0.1))
    elif name == 'parking':
        img = np.broadcast_to(_rgb(0.32, 0.34, 0.4), yy.shape + (3,))
        line = (np.mod(xx + ph, 15 * s) < 2 * s) & (yy - y0 < 0.75 * bh)
        img = _two_colour(line, img, _rgb(0.93, 0.93, 0.95))
    elif name == 'rug':
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        r = np.sqrt(((yy - cy) / max(bh, 1)) ** 2 + ((xx - cx) / max(x1 - x0, 1)) ** 2)
        img = _two_colour(np.mod(r * 9, 1.0) < 0.5, _rgb(0.62, 0.1, 0.14), _rgb(0.93, 0.84, 0.62))
    elif name == 'tiles':
        uu, vv = (xx + yy + ph) / (12 * s), (xx - yy) / (12 * s)
        img = _two_colour((np.floor(uu) + np.floor(vv)) % 2 == 0, _rgb(0.6, 0.3, 0.2), _rgb(0.86, 0.76, 0.56))
    elif name == 'grass':
        blades = _smooth_noise(rng, h, w, max(2, int(h / (10 * s))), max(2, int(w / (1.6 * s))))
        img = _mix(_rgb(0.12, 0.36, 0.1), _rgb(0.36, 0.66, 0.22), blades)
    elif name == 'gingham':
        a = np.mod(xx + ph, 8 * s) < 4 * s
        b = np.mod(yy + ph, 8 * s) < 4 * s
        img = _two_colour(a | b, _rgb(0.97, 0.95, 0.95), _rgb(0.9, 0.55, 0.55))
        img = _two_colour(a & b, img, _rgb(0.72, 0.1, 0.15))
    elif name == 'picket_fence':
        img = np.broadcast_to(_rgb(0.18, 0.34, 0.2), yy.shape + (3,))
        picket = (np.mod(xx + ph, 9 * s) < 5 * s) & (yy - y0 > 0.06 * bh)
        rail = (np.abs(yy - y0 - 0.35 * bh) < 1.8 * s) | (np.abs(yy - y0 - 0.75 * bh) < 1.8 * s)
        img = _two_colour(picket | rail, img, _rgb(0.95, 0.94, 0.9))
    elif name == 'paddock':
        img = _mix(_rgb(0.76, 0.63, 0.42), _rgb(0.88, 0.77, 0.55), _smooth_noise(rng, h, w, 8))
        d, _, _ = _jittered_points(rng, yy, xx, 10 * s, jitter=0.3)
        img = _two_colour(d < 1.8 * s, img, _rgb(0.42, 0.28, 0.14))
    elif name == 'kerb':
        img = _two_colour(np.mod(xx + yy + ph, 14 * s) < 7 * s, _rgb(0.95, 0.95, 0.95), _rgb(0.82, 0.08, 0.08))
    elif name == 'bricks':
        row = np.floor(yy / (6 * s))
        xs = xx + ph + (row % 2) * 6 * s
        col = np.floor(xs / (12 * s))
        mortar = (np.mod(yy, 6 * s) < 1.2 * s) | (np.mod(xs, 12 * s) < 1.2 * s)
        jit = rng.uniform(0.8, 1.15, 4096).astype(np.float32)[((row * 131 + col * 17) % 4096).astype(int)]
        img = _rgb(0.62, 0.3, 0.2) * jit[..., None]
        img = _two_colour(mortar, img, _rgb(0.84, 0.82, 0.78))
    elif name == 'window':
        t = np.clip((yy - y0) / bh, 0, 1)
        img = _mix(_rgb(0.62, 0.8, 0.95), _rgb(0.88, 0.95, 1.0), t)
        fr = ((np.mod(xx - x0, 16 * s) < 2.5 * s) | (np.mod(yy - y0, 16 * s) < 2.5 * s)
              | (xx > x1 - 2.5 * s) | (yy > y1 - 2.5 * s))
        img = _two_colour(fr, img, _rgb(0.38, 0.26, 0.16))
        grain = grain * 0.3
    elif name == 'meadow':
        img = _mix(_rgb(0.48, 0.64, 0.24), _rgb(0.6, 0.74, 0.32), _smooth_noise(rng, h, w, 6))
        d, iy, ix = _jittered_points(rng, yy, xx, 6 * s)
        flower = d < 1.3 * s
        yellow = ((iy * 7 + ix * 3) % 3) == 0
        img = _two_colour(flower & ~yellow, img, _rgb(0.98, 0.98, 0.96))
        img = _two_colour(flower & yellow, img, _rgb(1.0, 0.88, 0.15))
    elif name == 'wallpaper':
        img = np.broadcast_to(_rgb(0.4, 0.26, 0.52), yy.shape + (3,))
        p = 14 * s
        da = np.abs(np.mod(xx + yy + ph, p) - p / 2) < 0.8 * s
        db = np.abs(np.mod(xx - yy + ph, p) - p / 2) < 0.8 * s
        img = _two_colour(da | db, img, _rgb(0.78, 0.64, 0.88))
    elif name == 'rails':
        img = _mix(_rgb(0.42, 0.38, 0.33), _rgb(0.58, 0.54, 0.48),
                   _smooth_noise(rng, h, w, max(2, int(h / (2 * s)))))
        rel = yy - y0
        r1, r2 = 0.3 * bh, 0.65 * bh
        sleeper = (np.mod(xx + ph, 9 * s) < 3.5 * s) & (rel > r1 - 3 * s) & (rel < r2 + 3 * s)
        rail = (np.abs(rel - r1) < 1.3 * s) | (np.abs(rel - r2) < 1.3 * s)
        img = _two_colour(sleeper, img, _rgb(0.38, 0.24, 0.12))
        img = _two_colour(rail, img, _rgb(0.16, 0.16, 0.18))
    elif name == 'bookshelf':
        row = np.floor((yy - y0) / (22 * s))
        col = np.floor((xx + ph) / (4.5 * s))
        idx = ((row * 97 + col * 13) % 64).astype(int)
        table = np.stack([_hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.35, 0.85))
                          for _ in range(64)])
        img = table[idx]
        gap = np.mod(xx + ph, 4.5 * s) < 0.8 * s
        board = np.mod(yy - y0, 22 * s) < 3 * s
        img = _two_colour(gap, img, _rgb(0.1, 0.08, 0.06))
        img = _two_colour(board, img, _rgb(0.42, 0.27, 0.13))
    else:
        raise ValueError(f'unknown context {name!r}')
    return np.asarray(img, dtype=np.float32) + grain


def _region_mask(rng, yy, xx, s: float, box, edge: str) -> np.ndarray:
    y0, x0, y1, x1 = box
    if edge == 'ellipse':
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        return ((yy - cy) / ((y1 - y0) / 2)) ** 2 + ((xx - cx) / ((x1 - x0) / 2)) ** 2 <= 1.0
    if edge == 'wavy':
        top = y0 + 2.5 * s * np.sin(2 * np.pi * xx / (rng.uniform(14, 24) * s) + rng.uniform(0, 6.3))
        return (yy >= top) & (yy < y1) & (xx >= x0) & (xx < x1)
    if edge == 'ragged':
        h, w = yy.shape
        n = (_smooth_noise(rng, h, w, max(2, int(h / (8 * s)))) - 0.5) * 8 * s
        return (yy + n >= y0) & (yy - n < y1) & (xx + n >= x0) & (xx - n < x1)
    return (yy >= y0) & (yy < y1) & (xx >= x0) & (xx < x1)


# ----------------------------------------------------------------------------------------------------
# One sample
# ----------------------------------------------------------------------------------------------------
@dataclass
class SyntheticObject:
    cls: int  #: 1..20
    shape: str
    body: np.ndarray  #: (H, W) bool, unoccluded body (includes the part)
    part: np.ndarray  #: (H, W) bool, unoccluded part


@dataclass
class SyntheticContext:
    cls: int  #: 1..20, the class whose context it is
    name: str
    region: np.ndarray  #: (H, W) bool, unoccluded region
    adjacent: bool
    foreign: bool  #: True when the class itself is absent from the image


@dataclass
class Sample:
    image: np.ndarray  #: (H, W, 3) uint8 RGB
    label: np.ndarray  #: (H, W) uint8, 0..20 / 255
    regions: np.ndarray  #: (H, W) uint8 region codes
    instances: np.ndarray  #: (H, W) uint8, 0 = none, k = visible pixels of objects[k-1]
    objects: list = field(default_factory=list)
    contexts: list = field(default_factory=list)

    @property
    def classes(self) -> list[int]:
        """Classes (1..20) with at least one labelled pixel."""
        v = np.unique(self.label)
        return [int(c) for c in v if 0 < c < 255]

    def context_visible(self) -> np.ndarray:
        return self.regions == REGION_CONTEXT


def _split_code(split: str) -> int:
    if split not in SPLIT_CODES:
        raise ValueError(f'unknown split {split!r}; expected one of {sorted(SPLIT_CODES)}')
    return SPLIT_CODES[split]


def sample_rng(seed: int, split: str, index: int, stream: int = 0) -> np.random.Generator:
    """The RNG of one image: stream 0 renders it, 1 / 2 simulate the good / poor saliency maps."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, _split_code(split), int(index), int(stream)])


def _choose_classes(rng, seed: int, split: str, index: int) -> list[int]:
    # primary class cycles over the 20 classes, so any 20 consecutive images cover them all
    primary = (index + int(seed) + 7 * _split_code(split)) % NUM_CLASSES
    classes = [primary]
    u = rng.random()
    n = 3 if u < P_THIRD_CLASS else 2 if u < P_THIRD_CLASS + P_SECOND_CLASS else 1
    others = [c for c in range(NUM_CLASSES) if c != primary]
    classes += [int(c) for c in rng.choice(others, size=n - 1, replace=False)]
    return classes


def _place_apart(rng, yy, xx, s, hgt, wid, occupied, edge, tries: int = 10):
    """Among random boxes of size (hgt, wid), the one overlapping ``occupied`` least."""
    h, w = yy.shape
    best = None
    for _ in range(tries):
        y0 = rng.uniform(-0.1 * hgt, h - 0.9 * hgt)
        x0 = rng.uniform(-0.1 * wid, w - 0.9 * wid)
        box = (y0, x0, y0 + hgt, x0 + wid)
        m = _region_mask(rng, yy, xx, s, box, edge)
        score = int((m & occupied).sum()) - 0.2 * int(m.sum())
        if best is None or score < best[0]:
            best = (score, box, m)
    return best[1], best[2]


def _context_box(rng, s, h, w, placement: str, bbox, adjacent: bool):
    """Size and, when adjacent, position of a context region relative to the anchor bbox."""
    oy0, ox0, oy1, ox1 = bbox
    oh, ow = oy1 - oy0, ox1 - ox0
    ocy, ocx = (oy0 + oy1) / 2, (ox0 + ox1) / 2
    if placement == 'under':
        hgt = rng.uniform(0.22, 0.38) * h * CONTEXT_SIZE
        wid = max(0.55 * w, min(rng.uniform(1.3, 2.5) * ow, 1.05 * w))
        if adjacent:
            y0 = min(oy1 - rng.uniform(0.2, 0.5) * hgt, h - 0.6 * hgt)
            x0 = ocx - wid / 2 + rng.uniform(-0.15, 0.15) * ow
            return hgt, wid, (y0, x0, y0 + hgt, x0 + wid)
    elif placement == 'around':
        if adjacent:
            m = rng.uniform(0.08, 0.22, 4) * h * CONTEXT_SIZE
            return None, None, (oy0 - m[0], ox0 - m[1], oy1 + m[2], ox1 + m[3])
        k = np.sqrt(CONTEXT_SIZE)  # both sides scaled: the area scales by CONTEXT_SIZE
        hgt, wid = rng.uniform(0.32, 0.5) * h * k, rng.uniform(0.32, 0.5) * w * k
    else:  # side
        hgt = rng.uniform(0.45, 0.8) * h
        wid = rng.uniform(0.22, 0.34) * w * CONTEXT_SIZE
        if adjacent:
            ov = rng.uniform(0.2, 0.5) * wid
            right = rng.random() < 0.5
            if ocx > 0.62 * w:
                right = False
            elif ocx < 0.38 * w:
                right = True
            x0 = ox1 - ov if right else ox0 + ov - wid
            y0 = ocy - hgt / 2 + rng.uniform(-0.15, 0.15) * oh
            return hgt, wid, (y0, x0, y0 + hgt, x0 + wid)
    return hgt, wid, None


def _bbox(mask: np.ndarray):
    ys, xs = np.nonzero(mask)
    return float(ys.min()), float(xs.min()), float(ys.max() + 1), float(xs.max() + 1)


def _make_object(rng, yy, xx, s, cls0: int, extent: float) -> SyntheticObject | None:
    """Body + part for class index ``cls0`` (0-based); None when no part fits (rare)."""
    h, w = yy.shape
    shape = BODY_SHAPES[int(rng.integers(len(BODY_SHAPES)))]
    aspect = rng.uniform(1.0, 1.5)
    angle = rng.uniform(0, np.pi)
    cy = rng.uniform(0.42 * extent, h - 0.42 * extent)
    cx = rng.uniform(0.42 * extent, w - 0.42 * extent)
    body = shape_mask(rng, yy, xx, shape, cy, cx, extent, aspect, angle)
    area = float(body.sum())
    if area < 50:
        return None
    across = rng.uniform(*PART_ACROSS) * s
    frac = np.clip(_part_area(cls0, across) / area, *PART_FRACTION)
    target = frac * area
    across = np.sqrt(target / (np.pi / 4 if PART_SPECS[cls0]['shape'] == 'disc' else 1.0))
    margin = 2.0 * s
    idx = np.flatnonzero(body)
    for _ in range(40):
        k = idx[int(rng.integers(len(idx)))]
        py, px = yy.flat[k], xx.flat[k]
        r = across / 2 + margin
        if py - r < 0 or px - r < 0 or py + r > h or px + r > w:
            continue
        guard = part_mask(yy, xx, cls0, py, px, across + 2 * margin)
        if (guard & ~body).any():
            continue
        part = part_mask(yy, xx, cls0, py, px, across)
        f = part.sum() / area
        if PART_FRACTION[0] - 0.005 <= f <= PART_FRACTION[1] + 0.005:
            return SyntheticObject(cls=cls0 + 1, shape=shape, body=body, part=part)
    return None


def render_sample(seed: int, split: str, index: int, size: int = 128) -> Sample:
    """Render image ``index`` of ``split`` ('train' | 'val' | 'sod'); depends on nothing else."""
    rng = sample_rng(seed, split, index, 0)
    h = w = int(size)
    s = size / 128.0
    yy, xx = _grid(h, w)

    # ---- classes and objects -------------------------------------------------------------------
    classes = _choose_classes(rng, seed, split, index)
    n_obj = len(classes)
    if n_obj == 1:
        n_obj = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    elif n_obj == 2:
        n_obj = int(rng.choice([2, 3], p=[0.75, 0.25]))
    obj_classes = classes + [int(rng.choice(classes)) for _ in range(n_obj - len(classes))]
    ext_range = OBJ_EXTENT_SINGLE if n_obj == 1 else OBJ_EXTENT_MULTI

    objects: list[SyntheticObject] = []
    for attempt in range(30):
        if attempt and attempt % 10 == 0 and len(obj_classes) > 1:
            obj_classes = obj_classes[:-1]  # too crowded: drop one (never the primary class)
            ext_range = OBJ_EXTENT_SINGLE if len(obj_classes) == 1 else OBJ_EXTENT_MULTI
        objects = []
        for c in obj_classes:
            o = None
            for _ in range(100):
                o = _make_object(rng, yy, xx, s, c, rng.uniform(*ext_range) * s)
                if o is not None:
                    break
            if o is None:
                raise RuntimeError(f'{split} {index}: could not place a part for class {c + 1}')
            objects.append(o)
        order = rng.permutation(len(objects))
        objects = [objects[i] for i in order]
        inst = np.zeros((h, w), dtype=np.uint8)
        for k, o in enumerate(objects):
            inst[o.body] = k + 1
        ok = all(((inst == k + 1) & o.body).sum() >= MIN_VISIBLE_OBJECT * o.body.sum()
                 and ((inst == k + 1) & o.part).sum() >= MIN_VISIBLE_PART * o.part.sum()
                 for k, o in enumerate(objects))
        if ok:
            break
    occupied = inst > 0

    # ---- contexts --------------------------------------------------------------------------------
    present = sorted({o.cls for o in objects})
    ctx_specs = []  # (cls, anchor object, adjacent, foreign)
    for c in present:
        if rng.random() < P_OWN_CONTEXT:
            anchors = [o for o in objects if o.cls == c]
            ctx_specs.append((c, anchors[int(rng.integers(len(anchors)))], rng.random() < P_CONTEXT_ADJACENT,
                              False))
    if rng.random() < P_FOREIGN_CONTEXT:
        absent = [c for c in range(1, NUM_CLASSES + 1) if c not in present]
        c = int(rng.choice(absent))
        ctx_specs.append((c, objects[int(rng.integers(len(objects)))], rng.random() < 0.5, True))

    # ---- composite: background, contexts, distractors, objects ----------------------------------
    img = background_texture(rng, yy, xx, s)
    ctx_layer = np.zeros((h, w), dtype=bool)
    contexts: list[SyntheticContext] = []
    for c, anchor, adjacent, foreign in ctx_specs:
        name, placement, edge = CONTEXTS[c - 1]
        hgt, wid, box = _context_box(rng, s, h, w, placement, _bbox(anchor.body), adjacent)
        region = None if box is None else _region_mask(rng, yy, xx, s, box, edge)
        if region is not None and (region & ~occupied).sum() < MIN_VISIBLE_CONTEXT * region.sum():
            y0, x0, y1, x1 = box  # mostly hidden behind the objects: place a region of this size apart
            hgt, wid, region = y1 - y0, x1 - x0, None
        if region is None:
            box, region = _place_apart(rng, yy, xx, s, hgt, wid, occupied, edge)
        tex = context_texture(rng, yy, xx, s, name, box)
        img = np.where(region[..., None], tex, img)
        ctx_layer |= region
        contexts.append(SyntheticContext(cls=c, name=name, region=region, adjacent=bool(adjacent),
                                         foreign=foreign))

    for _ in range(int(rng.integers(2, 6))):
        kind = ('ellipse', 'rectangle', 'blob', 'polygon', 'line')[int(rng.integers(5))]
        ext = rng.uniform(8, 30) * s if kind != 'line' else rng.uniform(20, 60) * s
        aspect = rng.uniform(1.0, 2.5) if kind != 'line' else ext / rng.uniform(2, 3.5) / s
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        m = shape_mask(rng, yy, xx, kind, cy, cx, ext, aspect, rng.uniform(0, np.pi))
        img = np.where(m[..., None], body_texture(rng, yy, xx, s, cy, cx, ext), img)
        ctx_layer &= ~m

    inst = np.zeros((h, w), dtype=np.uint8)
    part_vis = np.zeros((h, w), dtype=bool)
    for k, o in enumerate(objects):
        bcy, bcx = float(yy[o.body].mean()), float(xx[o.body].mean())
        ext = 2 * np.sqrt(o.body.sum() / np.pi)
        img = np.where(o.body[..., None], body_texture(rng, yy, xx, s, bcy, bcx, ext), img)
        pcy, pcx = float(yy[o.part].mean()), float(xx[o.part].mean())
        img = np.where(o.part[..., None], part_texture(rng, yy, xx, s, o.cls - 1, pcy, pcx), img)
        inst[o.body] = k + 1
        part_vis &= ~o.body
        part_vis |= o.part
    ctx_layer &= inst == 0

    img = _gauss_blur(img, 0.55 * s)
    img = img + rng.normal(0.0, rng.uniform(0.01, 0.025), img.shape).astype(np.float32)
    image = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)

    # ---- labels -----------------------------------------------------------------------------------
    cls_of = np.array([0] + [o.cls for o in objects], dtype=np.uint8)
    label = cls_of[inst]
    regions = np.full((h, w), REGION_BACKGROUND, dtype=np.uint8)
    regions[ctx_layer] = REGION_CONTEXT
    regions[inst > 0] = REGION_BODY
    regions[part_vis] = REGION_PART
    band = _boundary_band(inst, max(1, int(round(BOUNDARY_RADIUS * s))))
    label[band] = IGNORE_INDEX
    regions[band] = REGION_IGNORE
    return Sample(image=image, label=label, regions=regions, instances=inst, objects=objects,
                  contexts=contexts)


def saliency_maps(sample: Sample, seed: int, split: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Simulated (good, poor) saliency maps, uint8 (H, W).

    good: the union of the visible objects, slightly blurred, small noise.
    poor: misses each object with probability :data:`SAL_POOR_MISS`, fires on the visible contexts in
    :data:`SAL_POOR_CONTEXT` of the images, blurrier and noisier.
    """
    h, w = sample.label.shape
    s = h / 128.0
    out = []
    for stream, (blur, noise) in ((1, (SAL_GOOD_BLUR, SAL_GOOD_NOISE)), (2, (SAL_POOR_BLUR, SAL_POOR_NOISE))):
        rng = sample_rng(seed, split, index, stream)
        val = np.zeros(len(sample.objects) + 1, dtype=np.float32)
        for k in range(len(sample.objects)):
            if stream == 1:
                val[k + 1] = rng.uniform(0.85, 1.0)
            else:
                val[k + 1] = 0.0 if rng.random() < SAL_POOR_MISS else rng.uniform(0.55, 0.95)
        m = val[sample.instances]
        if stream == 2 and rng.random() < SAL_POOR_CONTEXT:
            ctx = sample.regions == REGION_CONTEXT
            m = np.where(ctx, np.maximum(m, rng.uniform(0.4, 0.8)), m)
        m = _gauss_blur(m, blur * s)
        low = _smooth_noise(rng, h, w, 4) - 0.5
        m = m + noise * rng.standard_normal((h, w), dtype=np.float32) + 2 * noise * low
        out.append(np.clip(np.round(m * 255), 0, 255).astype(np.uint8))
    return out[0], out[1]


def image_id(split: str, index: int) -> str:
    if split == 'train':
        return f'{ID_PREFIX}{index:06d}'
    if split == 'val':
        return f'{ID_PREFIX}{VAL_ID_OFFSET + index:06d}'
    if split == 'sod':
        return f'{SOD_PREFIX}{index:06d}'
    raise ValueError(f'unknown split {split!r}')


def parse_id(name: str) -> tuple[str, int]:
    """Inverse of :func:`image_id`: ``'syn_100003'`` -> ``('val', 3)``."""
    if name.startswith(SOD_PREFIX):
        return 'sod', int(name[len(SOD_PREFIX):])
    if name.startswith(ID_PREFIX):
        n = int(name[len(ID_PREFIX):])
        return ('val', n - VAL_ID_OFFSET) if n >= VAL_ID_OFFSET else ('train', n)
    raise ValueError(f'{name!r} is not a synthetic image id (syn_NNNNNN or sod_NNNNNN)')


def render_by_id(name: str, seed: int = DEFAULTS['seed'], size: int = DEFAULTS['size']) -> Sample:
    """Regenerate one image from its id alone (same seed and size as the data set)."""
    split, index = parse_id(name)
    return render_sample(seed, split, index, size)


# ----------------------------------------------------------------------------------------------------
# Writing the data set
# ----------------------------------------------------------------------------------------------------
def _jpeg_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image, 'RGB').save(buf, format='JPEG', quality=JPEG_QUALITY, subsampling=2, optimize=False)
    return buf.getvalue()


def class_table() -> list[dict]:
    return [dict(index=i + 1, name=VOC_CLASSES[i], part=dict(PART_SPECS[i]),
                 context=dict(name=CONTEXTS[i][0], placement=CONTEXTS[i][1], edge=CONTEXTS[i][2]))
            for i in range(NUM_CLASSES)]


def _readme(args: dict) -> str:
    rows = '\n'.join(f"| {r['index']} | {r['name']} | {r['part']['pattern']} / {r['part']['second']} / "
                     f"{r['part']['shape']}, hue {r['part']['hue']:.2f} | {r['context']['name']} "
                     f"({r['context']['placement']}) |" for r in class_table())
    return f"""# Synthetic VOC-format data set (wsss generator v{GENERATOR_VERSION})

Generated by `tools/make_synthetic_voc.py` (library `wsss.datasets.synthetic`) with
`{' '.join(f'--{k.replace("_", "-")} {v}' for k, v in args.items())}`.
Deterministic: the same arguments give the same bytes; every image can be regenerated alone from
(seed, split, index) with `wsss.datasets.synthetic.render_by_id`.

## Layout (PASCAL VOC 2012 + extras)
- `JPEGImages/<id>.jpg`: RGB, {args['size']}x{args['size']}, JPEG quality {JPEG_QUALITY}.
- `SegmentationClass/<id>.png`: palette PNG, 0 = background, 1..20 = VOC classes (official order),
  255 = ignore on a thin band (~2 px at 128 px) along every object boundary, as in real VOC.
- `ImageSets/Segmentation/train.txt`, `val.txt`, `trainval.txt`: ids `syn_NNNNNN`
  (train: `syn_000000`.., val: `syn_{VAL_ID_OFFSET:06d}`..; disjoint).
- `SyntheticRegions/<id>.png` (mode L): {REGION_BACKGROUND} = plain background, {REGION_CONTEXT} = class-specific
  context (labelled background), {REGION_BODY} = object body, {REGION_PART} = discriminative part,
  {REGION_IGNORE} = boundary ignore band. Use `wsss.metrics.regions.region_stats`.
- `saliency/good/<id>.png`, `saliency/poor/<id>.png` (mode L, image size): simulated saliency.
  good = union of the objects, slightly blurred (sigma {SAL_GOOD_BLUR} px), small noise;
  poor = misses each object with p = {SAL_POOR_MISS}, fires on the class contexts in ~{SAL_POOR_CONTEXT:.0%}
  of the images, blurrier (sigma {SAL_POOR_BLUR} px) and noisier.
- `sod/Image/<name>.jpg`, `sod/GT/<name>.png` (0/255), `sod/train.txt`, `sod/test.txt`: a DUTS-layout
  salient-object split from the same renderer (own seed stream),
  {SOD_TRAIN_FRACTION:.0%} train / {1 - SOD_TRAIN_FRACTION:.0%} test.
  GT = union of the visible objects (contexts and distractors are not salient).
- `meta.json`: generator version, seed, arguments, region codes, class -> (part, context) table.

## Rules (why the WSSS methods show their effect here)
1. Every class has a small discriminative part ({PART_FRACTION[0]:.0%}-{PART_FRACTION[1]:.0%} of the object area,
   13-28 px across at 128 px, median 17 px) with a class-specific colour and texture, on a body
   whose shape, colour and texture come from a pool shared by all classes: a plain CAM finds the part only.
2. Every class has its own background context, present in ~{P_OWN_CONTEXT:.0%} of its images and, as a
   foreign context, in ~{P_FOREIGN_CONTEXT:.0%} of all images (about {P_FOREIGN_CONTEXT / (NUM_CLASSES - 1):.1%} of the
   images without the class, per class); adjacent to an object of its class in ~{P_CONTEXT_ADJACENT:.0%} of cases,
   apart otherwise. It is background (0) in SegmentationClass: a plain CAM leaks onto it.
3. 1-3 objects of 1-3 classes per image (the primary class cycles so every 20 consecutive images cover all
   classes), occlusion (later objects cover earlier ones, each keeps >= {MIN_VISIBLE_OBJECT:.0%} of its area and
   >= {MIN_VISIBLE_PART:.0%} of its part), distractor shapes from the shared body pool, a random shared background
   texture, mild blur and noise.

| # | class | part (pattern / 2nd colour / outline, hue) | context (placement) |
|---|---|---|---|
{rows}
"""


def generate(out_dir: str | Path, num_train: int = DEFAULTS['num_train'], num_val: int = DEFAULTS['num_val'],
             num_sod: int = DEFAULTS['num_sod'], size: int = DEFAULTS['size'], seed: int = DEFAULTS['seed'],
             verbose: bool = False) -> dict:
    """Write the whole data set under ``out_dir`` (see the module docstring and the README it writes).

    Returns a summary dict (counts and seconds). Existing files with the same names are overwritten;
    nothing else under ``out_dir`` is touched.
    """
    if num_train < 0 or num_val < 0 or num_sod < 0:
        raise ValueError('image counts must be >= 0')
    if num_train > VAL_ID_OFFSET or num_val > VAL_ID_OFFSET:
        raise ValueError(f'at most {VAL_ID_OFFSET} train and val images (ids must stay disjoint)')
    if size < 32:
        raise ValueError(f'size must be >= 32 px, got {size}')
    root = Path(out_dir)
    t0 = time.perf_counter()
    args = dict(num_train=int(num_train), num_val=int(num_val), num_sod=int(num_sod), size=int(size),
                seed=int(seed))
    lists: dict[str, list[str]] = {}
    for split, n in (('train', num_train), ('val', num_val)):
        ids = []
        for i in range(n):
            name = image_id(split, i)
            smp = render_sample(seed, split, i, size)
            good, poor = saliency_maps(smp, seed, split, i)
            atomic_write_bytes(root / 'JPEGImages' / f'{name}.jpg', _jpeg_bytes(smp.image))
            save_label_png(root / 'SegmentationClass' / f'{name}.png', smp.label)
            save_gray_png(root / REGIONS_DIR / f'{name}.png', smp.regions)
            save_gray_png(root / 'saliency' / 'good' / f'{name}.png', good)
            save_gray_png(root / 'saliency' / 'poor' / f'{name}.png', poor)
            ids.append(name)
            if verbose and (i + 1) % 100 == 0:
                print(f'{split}: {i + 1}/{n} ({time.perf_counter() - t0:.1f} s)', flush=True)
        lists[split] = ids
    seg = root / 'ImageSets' / 'Segmentation'
    for split in ('train', 'val'):
        atomic_write_bytes(seg / f'{split}.txt', ''.join(f'{x}\n' for x in lists[split]).encode())
    atomic_write_bytes(seg / 'trainval.txt', ''.join(f'{x}\n' for x in lists['train'] + lists['val']).encode())

    sod_names = []
    for i in range(num_sod):
        name = image_id('sod', i)
        smp = render_sample(seed, 'sod', i, size)
        atomic_write_bytes(root / 'sod' / 'Image' / f'{name}.jpg', _jpeg_bytes(smp.image))
        save_gray_png(root / 'sod' / 'GT' / f'{name}.png', np.where(smp.instances > 0, 255, 0).astype(np.uint8))
        sod_names.append(name)
        if verbose and (i + 1) % 100 == 0:
            print(f'sod: {i + 1}/{num_sod} ({time.perf_counter() - t0:.1f} s)', flush=True)
    n_tr = int(round(SOD_TRAIN_FRACTION * num_sod))
    atomic_write_bytes(root / 'sod' / 'train.txt', ''.join(f'{x}\n' for x in sod_names[:n_tr]).encode())
    atomic_write_bytes(root / 'sod' / 'test.txt', ''.join(f'{x}\n' for x in sod_names[n_tr:]).encode())

    meta = dict(generator='wsss.datasets.synthetic', version=GENERATOR_VERSION, seed=int(seed), args=args,
                splits=dict(train=len(lists['train']), val=len(lists['val']), sod_train=n_tr,
                            sod_test=num_sod - n_tr),
                id_scheme=dict(train=f'{ID_PREFIX}<index:06d>', val=f'{ID_PREFIX}<{VAL_ID_OFFSET}+index:06d>',
                               sod=f'{SOD_PREFIX}<index:06d>'),
                region_codes=REGION_CODES, saliency_dirs=['saliency/good', 'saliency/poor'],
                params=dict(p_second_class=P_SECOND_CLASS, p_third_class=P_THIRD_CLASS,
                            p_own_context=P_OWN_CONTEXT, p_foreign_context=P_FOREIGN_CONTEXT,
                            p_context_adjacent=P_CONTEXT_ADJACENT, part_fraction=list(PART_FRACTION),
                            part_across_px_at_128=list(PART_ACROSS), sal_poor_miss=SAL_POOR_MISS,
                            sal_poor_context=SAL_POOR_CONTEXT, jpeg_quality=JPEG_QUALITY),
                classes=class_table())
    atomic_write_json(root / 'meta.json', meta)
    atomic_write_bytes(root / 'README.md', _readme(args).encode())
    return dict(root=str(root), train=len(lists['train']), val=len(lists['val']), sod=num_sod,
                seconds=round(time.perf_counter() - t0, 2))


def _checked_meta(data_root: str | Path) -> dict | None:
    """``meta.json`` of a synthetic set (None when ``data_root`` is not one); error if another generator
    version wrote it."""
    path = Path(data_root) / 'meta.json'
    if not path.is_file():
        return None
    meta = json.loads(path.read_text())
    if meta.get('generator') != 'wsss.datasets.synthetic':
        return None
    if meta.get('version') != GENERATOR_VERSION:
        raise RuntimeError(f"{path}: this synthetic set was made by generator version {meta.get('version')}, "
                           f'this code writes version {GENERATOR_VERSION}; delete {data_root} (it is regenerated '
                           'in about a minute) or name another data root')
    return meta


read_synthetic_meta = _checked_meta


def ensure_synthetic(data_root: str | Path, **gen_kwargs) -> dict:
    """Generate the synthetic set into ``data_root`` unless it is there; return its ``meta.json``.
    A set made by another generator version is not reused (its images differ): a clear error says so."""
    meta = _checked_meta(data_root)
    if meta is None:
        generate(data_root, **gen_kwargs)
        meta = _checked_meta(data_root)
    return meta


def pixel_fractions(samples) -> dict:
    """Share of pixels per region code and part/object ratios over an iterable of :class:`Sample`
    (the sanity summary printed by the generator's check)."""
    counts = np.zeros(256, dtype=np.int64)
    part_fracs = []
    own_ctx = with_cls = foreign = without_cls = 0
    for smp in samples:
        counts += np.bincount(smp.regions.ravel(), minlength=256)
        part_fracs += [o.part.sum() / o.body.sum() for o in smp.objects]
        present = set(smp.classes)
        ctx_cls = {c.cls for c in smp.contexts if (c.region & (smp.regions == REGION_CONTEXT)).any()}
        for c in range(1, NUM_CLASSES + 1):
            if c in present:
                with_cls += 1
                own_ctx += c in ctx_cls
            else:
                without_cls += 1
                foreign += c in ctx_cls
    tot = counts.sum()
    return dict(background=counts[REGION_BACKGROUND] / tot, context=counts[REGION_CONTEXT] / tot,
                body=counts[REGION_BODY] / tot, part=counts[REGION_PART] / tot,
                ignore=counts[REGION_IGNORE] / tot,
                part_over_object_visible=counts[REGION_PART] / max(1, counts[REGION_PART] + counts[REGION_BODY]),
                part_over_object_min=float(np.min(part_fracs)), part_over_object_max=float(np.max(part_fracs)),
                own_context_rate=own_ctx / max(1, with_cls), foreign_context_rate=foreign / max(1, without_cls))
