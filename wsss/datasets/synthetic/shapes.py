"""Geometry of the renderer: the pixel-centre coordinate grid, body / distractor / part / context-region
masks, and the small vectorised helpers the textures are built from (colours, value noise, blending).

Everything works on whole coordinate grids with numpy (no per-pixel loops).
"""
from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np

from wsss.datasets.synthetic import params


# ----------------------------------------------------------------------------------------------------
# Small vectorised helpers
# ----------------------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (yy, xx), float32 (h, w), read-only (cached and shared)."""
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32) + 0.5, np.arange(w, dtype=np.float32) + 0.5,
                         indexing='ij')
    yy.flags.writeable = False
    xx.flags.writeable = False
    return yy, xx


def rgb(*c) -> np.ndarray:
    return np.asarray(c, dtype=np.float32)


def hsv(h: float, s: float, v: float) -> np.ndarray:
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


def smooth_noise(rng: np.random.Generator, h: int, w: int, cy: int, cx: int | None = None) -> np.ndarray:
    """Value noise in [0, 1]: a random (cy+1, cx+1) lattice smoothly interpolated to (h, w).

    Element-wise gathers only (no BLAS call: multi-threaded BLAS on tiny matrices is slow on a shared box).
    """
    cx = cy if cx is None else cx
    g = rng.random((cy + 1, cx + 1), dtype=np.float32)
    iy, fy = _interp_index(h, cy)
    ix, fx = _interp_index(w, cx)
    rows = g[iy] * (1 - fy)[:, None] + g[iy + 1] * fy[:, None]  # (h, cx+1)
    return rows[:, ix] * (1 - fx) + rows[:, ix + 1] * fx


def mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-pixel blend of colours (3,) or images (H,W,3) a, b by t (H,W) in [0, 1]."""
    t = t[..., None]
    return a * (1 - t) + b * t


def two_colour(mask: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    return np.where(mask[..., None], c1, c0).astype(np.float32)


def jittered_points(rng, yy, xx, period: float, jitter: float = 1.0):
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
def local_coords(yy, xx, cy, cx, angle):
    """Coordinates (u, v) in the frame centred on (cy, cx) and rotated by ``angle`` (radians)."""
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = xx - cx, yy - cy
    return dx * c + dy * s, -dx * s + dy * c


def shape_mask(rng: np.random.Generator, yy, xx, kind: str, cy: float, cx: float, extent: float,
               aspect: float, angle: float) -> np.ndarray:
    """A body/distractor shape of major extent ``extent`` (px) centred on (cy, cx)."""
    u, v = local_coords(yy, xx, cy, cx, angle)
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


def part_mask(yy, xx, cls: int, cy: float, cx: float, across: float) -> np.ndarray:
    """The part of class index ``cls`` (0-based): a disc of diameter or a square of side ``across``."""
    r = across / 2.0
    if params.PART_SPECS[cls]['shape'] == 'disc':
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    return (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r)


def part_area(cls: int, across: float) -> float:
    """Nominal area of :func:`part_mask` (before pixelisation)."""
    return np.pi * across ** 2 / 4 if params.PART_SPECS[cls]['shape'] == 'disc' else across ** 2


def region_mask(rng, yy, xx, s: float, box, edge: str) -> np.ndarray:
    """A context region filling ``box`` = (y0, x0, y1, x1) with the given edge style ('straight', 'wavy',
    'ragged', 'ellipse')."""
    y0, x0, y1, x1 = box
    if edge == 'ellipse':
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        return ((yy - cy) / ((y1 - y0) / 2)) ** 2 + ((xx - cx) / ((x1 - x0) / 2)) ** 2 <= 1.0
    if edge == 'wavy':
        top = y0 + 2.5 * s * np.sin(2 * np.pi * xx / (rng.uniform(14, 24) * s) + rng.uniform(0, 6.3))
        return (yy >= top) & (yy < y1) & (xx >= x0) & (xx < x1)
    if edge == 'ragged':
        h, w = yy.shape
        n = (smooth_noise(rng, h, w, max(2, int(h / (8 * s)))) - 0.5) * 8 * s
        return (yy + n >= y0) & (yy - n < y1) & (xx + n >= x0) & (xx - n < x1)
    return (yy >= y0) & (yy < y1) & (xx >= x0) & (xx < x1)
