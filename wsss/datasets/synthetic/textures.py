"""Textures: the shared pools (background, bodies, distractors) and the class-specific parts and contexts.

Bodies and distractors draw from one pool for all classes, so a body does not say which class it is; the
class is told only by its part (:data:`~wsss.datasets.synthetic.params.PART_SPECS`) and, as background, by
its context (:data:`~wsss.datasets.synthetic.params.CONTEXTS`).
"""
from __future__ import annotations

import numpy as np

from wsss.datasets.synthetic import params
from wsss.datasets.synthetic.shapes import hsv, jittered_points, local_coords, mix, rgb, smooth_noise, two_colour


def _muted_colour(rng) -> np.ndarray:
    return hsv(rng.random(), rng.uniform(0.08, 0.45), rng.uniform(0.3, 0.85))


def background_texture(rng, yy, xx, s: float) -> np.ndarray:
    """Shared background: two muted colours blended by low-frequency noise, plus grain and a gradient."""
    h, w = yy.shape
    c0, c1 = _muted_colour(rng), _muted_colour(rng)
    t = smooth_noise(rng, h, w, int(rng.integers(2, 6)))
    img = mix(c0, c1, t)
    grad = 1.0 + rng.uniform(-0.15, 0.15) * (yy / h - 0.5) + rng.uniform(-0.15, 0.15) * (xx / w - 0.5)
    img = img * grad[..., None]
    fine = smooth_noise(rng, h, w, max(2, int(h / (3 * s))))
    return img + (fine[..., None] - 0.5) * rng.uniform(0.04, 0.12)


def body_texture(rng, yy, xx, s: float, cy: float, cx: float, extent: float) -> np.ndarray:
    """Shared body/distractor appearance: a muted colour with one of
    :data:`~wsss.datasets.synthetic.params.BODY_TEXTURES`, shaded."""
    h, w = yy.shape
    c0 = _muted_colour(rng)
    c1 = np.clip(c0 * rng.uniform(0.6, 1.4) + rng.uniform(-0.08, 0.08, 3).astype(np.float32), 0, 1)
    kind = params.BODY_TEXTURES[int(rng.integers(len(params.BODY_TEXTURES)))]
    if kind == 'flat':
        img = np.broadcast_to(c0, yy.shape + (3,)).astype(np.float32)
    elif kind == 'grain':
        n = smooth_noise(rng, h, w, max(2, int(h / (2.5 * s))))
        img = mix(c0, c1, n)
    elif kind == 'spots':
        n = smooth_noise(rng, h, w, max(2, int(h / (14 * s))))
        img = mix(c0, c1, np.clip((n - 0.45) * 6, 0, 1))
    elif kind == 'coarse_stripes':
        u, _ = local_coords(yy, xx, cy, cx, rng.uniform(0, np.pi))
        period = rng.uniform(10, 18) * s
        img = mix(c0, c1, 0.5 + 0.5 * np.sin(2 * np.pi * u / period))
    else:  # two_tone
        u, _ = local_coords(yy, xx, cy, cx, rng.uniform(0, 2 * np.pi))
        img = mix(c0, c1, np.clip(u / (0.1 * extent) + 0.5, 0, 1))
    shade = 1.0 - 0.22 * np.clip(((yy - cy) ** 2 + (xx - cx) ** 2) / (0.5 * extent) ** 2, 0, 1)
    return img * shade[..., None]


def part_texture(rng, yy, xx, s: float, cls: int, cy: float, cx: float) -> np.ndarray:
    """Class-specific part appearance (:data:`~wsss.datasets.synthetic.params.PART_SPECS`), pattern
    anchored at the part centre."""
    spec = params.PART_SPECS[cls]
    primary = hsv(spec['hue'] + rng.uniform(-0.008, 0.008), rng.uniform(0.85, 1.0), rng.uniform(0.85, 1.0))
    second = rgb(0.07, 0.07, 0.08) if spec['second'] == 'black' else rgb(0.96, 0.96, 0.94)
    p = spec['period_px'] * s
    u, v = local_coords(yy, xx, cy, cx, np.deg2rad(spec['angle_deg']))
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
    return two_colour(m, second, primary)


def context_texture(rng, yy, xx, s: float, name: str, box) -> np.ndarray:
    """Class-specific context texture over the full grid; ``box`` = (y0, x0, y1, x1) of its region."""
    h, w = yy.shape
    y0, x0, y1, x1 = box
    bh = max(y1 - y0, 1.0)
    grain = (smooth_noise(rng, h, w, max(2, int(h / (2.5 * s))))[..., None] - 0.5) * 0.08
    ph = rng.uniform(0, 100)
    if name == 'sky':
        t = np.clip((yy - y0) / bh, 0, 1)
        img = mix(rgb(0.33, 0.55, 0.92), rgb(0.78, 0.88, 1.0), t)
        cloud = np.clip((smooth_noise(rng, h, w, 4, 6) - 0.55) * 5, 0, 1)
        img = mix(img, rgb(0.97, 0.97, 0.98), cloud)
        grain = grain * 0.3
    elif name == 'bike_lane':
        img = np.broadcast_to(rgb(0.2, 0.52, 0.36), yy.shape + (3,))
        rel = yy - y0
        line = (np.abs(rel - 0.18 * bh) < 1.2 * s) | (np.abs(rel - 0.82 * bh) < 1.2 * s)
        dash = (np.abs(rel - 0.5 * bh) < 1.0 * s) & (np.mod(xx + ph, 10 * s) < 5 * s)
        img = two_colour(line | dash, img, rgb(0.95, 0.95, 0.92))
    elif name == 'branches':
        img = np.broadcast_to(rgb(0.74, 0.82, 0.62), yy.shape + (3,))
        u, _ = local_coords(yy, xx, 0, ph, 0.6)
        u2, _ = local_coords(yy, xx, 0, ph * 1.7, -0.9)
        br = (np.mod(u, 15 * s) < 2.2 * s) | (np.mod(u2, 23 * s) < 1.6 * s)
        leaf = jittered_points(rng, yy, xx, 7 * s)[0] < 1.6 * s
        img = two_colour(leaf, img, rgb(0.2, 0.45, 0.15))
        img = two_colour(br, img, rgb(0.35, 0.22, 0.1))
    elif name == 'water':
        wave = np.sin(2 * np.pi * (yy / (6 * s) + 0.35 * np.sin(2 * np.pi * xx / (22 * s) + ph)))
        img = mix(rgb(0.06, 0.24, 0.52), rgb(0.15, 0.38, 0.7), 0.5 + 0.5 * wave)
        img = two_colour(wave > 0.8, img, rgb(0.6, 0.8, 0.97))
    elif name == 'shelf':
        n = smooth_noise(rng, h, w, max(2, int(h / (12 * s))), max(2, int(w / (40 * s))))
        grain_w = 0.5 + 0.5 * np.sin(2 * np.pi * yy / (3 * s) + 6 * n)
        img = mix(rgb(0.52, 0.33, 0.17), rgb(0.68, 0.46, 0.26), grain_w)
        seam = (np.mod(xx + ph, 22 * s) < 1.5 * s) | (np.abs(yy - y0 - 2 * s) < 1.5 * s)
        img = two_colour(seam, img, rgb(0.25, 0.15, 0.08))
    elif name == 'bus_road':
        img = np.broadcast_to(rgb(0.27, 0.27, 0.29), yy.shape + (3,))
        rel = yy - y0
        dash = (np.abs(rel - 0.55 * bh) < 1.5 * s) & (np.mod(xx + ph, 20 * s) < 12 * s)
        edge = np.abs(rel - 0.12 * bh) < 1.0 * s
        img = two_colour(edge, img, rgb(0.9, 0.9, 0.9))
        img = two_colour(dash, img, rgb(0.95, 0.8, 0.1))
    elif name == 'parking':
        img = np.broadcast_to(rgb(0.32, 0.34, 0.4), yy.shape + (3,))
        line = (np.mod(xx + ph, 15 * s) < 2 * s) & (yy - y0 < 0.75 * bh)
        img = two_colour(line, img, rgb(0.93, 0.93, 0.95))
    elif name == 'rug':
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        r = np.sqrt(((yy - cy) / max(bh, 1)) ** 2 + ((xx - cx) / max(x1 - x0, 1)) ** 2)
        img = two_colour(np.mod(r * 9, 1.0) < 0.5, rgb(0.62, 0.1, 0.14), rgb(0.93, 0.84, 0.62))
    elif name == 'tiles':
        uu, vv = (xx + yy + ph) / (12 * s), (xx - yy) / (12 * s)
        img = two_colour((np.floor(uu) + np.floor(vv)) % 2 == 0, rgb(0.6, 0.3, 0.2), rgb(0.86, 0.76, 0.56))
    elif name == 'grass':
        blades = smooth_noise(rng, h, w, max(2, int(h / (10 * s))), max(2, int(w / (1.6 * s))))
        img = mix(rgb(0.12, 0.36, 0.1), rgb(0.36, 0.66, 0.22), blades)
    elif name == 'gingham':
        a = np.mod(xx + ph, 8 * s) < 4 * s
        b = np.mod(yy + ph, 8 * s) < 4 * s
        img = two_colour(a | b, rgb(0.97, 0.95, 0.95), rgb(0.9, 0.55, 0.55))
        img = two_colour(a & b, img, rgb(0.72, 0.1, 0.15))
    elif name == 'picket_fence':
        img = np.broadcast_to(rgb(0.18, 0.34, 0.2), yy.shape + (3,))
        picket = (np.mod(xx + ph, 9 * s) < 5 * s) & (yy - y0 > 0.06 * bh)
        rail = (np.abs(yy - y0 - 0.35 * bh) < 1.8 * s) | (np.abs(yy - y0 - 0.75 * bh) < 1.8 * s)
        img = two_colour(picket | rail, img, rgb(0.95, 0.94, 0.9))
    elif name == 'paddock':
        img = mix(rgb(0.76, 0.63, 0.42), rgb(0.88, 0.77, 0.55), smooth_noise(rng, h, w, 8))
        d, _, _ = jittered_points(rng, yy, xx, 10 * s, jitter=0.3)
        img = two_colour(d < 1.8 * s, img, rgb(0.42, 0.28, 0.14))
    elif name == 'kerb':
        img = two_colour(np.mod(xx + yy + ph, 14 * s) < 7 * s, rgb(0.95, 0.95, 0.95), rgb(0.82, 0.08, 0.08))
    elif name == 'bricks':
        row = np.floor(yy / (6 * s))
        xs = xx + ph + (row % 2) * 6 * s
        col = np.floor(xs / (12 * s))
        mortar = (np.mod(yy, 6 * s) < 1.2 * s) | (np.mod(xs, 12 * s) < 1.2 * s)
        jit = rng.uniform(0.8, 1.15, 4096).astype(np.float32)[((row * 131 + col * 17) % 4096).astype(int)]
        img = rgb(0.62, 0.3, 0.2) * jit[..., None]
        img = two_colour(mortar, img, rgb(0.84, 0.82, 0.78))
    elif name == 'window':
        t = np.clip((yy - y0) / bh, 0, 1)
        img = mix(rgb(0.62, 0.8, 0.95), rgb(0.88, 0.95, 1.0), t)
        fr = ((np.mod(xx - x0, 16 * s) < 2.5 * s) | (np.mod(yy - y0, 16 * s) < 2.5 * s)
              | (xx > x1 - 2.5 * s) | (yy > y1 - 2.5 * s))
        img = two_colour(fr, img, rgb(0.38, 0.26, 0.16))
        grain = grain * 0.3
    elif name == 'meadow':
        img = mix(rgb(0.48, 0.64, 0.24), rgb(0.6, 0.74, 0.32), smooth_noise(rng, h, w, 6))
        d, iy, ix = jittered_points(rng, yy, xx, 6 * s)
        flower = d < 1.3 * s
        yellow = ((iy * 7 + ix * 3) % 3) == 0
        img = two_colour(flower & ~yellow, img, rgb(0.98, 0.98, 0.96))
        img = two_colour(flower & yellow, img, rgb(1.0, 0.88, 0.15))
    elif name == 'wallpaper':
        img = np.broadcast_to(rgb(0.4, 0.26, 0.52), yy.shape + (3,))
        p = 14 * s
        da = np.abs(np.mod(xx + yy + ph, p) - p / 2) < 0.8 * s
        db = np.abs(np.mod(xx - yy + ph, p) - p / 2) < 0.8 * s
        img = two_colour(da | db, img, rgb(0.78, 0.64, 0.88))
    elif name == 'rails':
        img = mix(rgb(0.42, 0.38, 0.33), rgb(0.58, 0.54, 0.48),
                   smooth_noise(rng, h, w, max(2, int(h / (2 * s)))))
        rel = yy - y0
        r1, r2 = 0.3 * bh, 0.65 * bh
        sleeper = (np.mod(xx + ph, 9 * s) < 3.5 * s) & (rel > r1 - 3 * s) & (rel < r2 + 3 * s)
        rail = (np.abs(rel - r1) < 1.3 * s) | (np.abs(rel - r2) < 1.3 * s)
        img = two_colour(sleeper, img, rgb(0.38, 0.24, 0.12))
        img = two_colour(rail, img, rgb(0.16, 0.16, 0.18))
    elif name == 'bookshelf':
        row = np.floor((yy - y0) / (22 * s))
        col = np.floor((xx + ph) / (4.5 * s))
        idx = ((row * 97 + col * 13) % 64).astype(int)
        table = np.stack([hsv(rng.random(), rng.uniform(0.5, 0.9), rng.uniform(0.35, 0.85))
                          for _ in range(64)])
        img = table[idx]
        gap = np.mod(xx + ph, 4.5 * s) < 0.8 * s
        board = np.mod(yy - y0, 22 * s) < 3 * s
        img = two_colour(gap, img, rgb(0.1, 0.08, 0.06))
        img = two_colour(board, img, rgb(0.42, 0.27, 0.13))
    else:
        raise ValueError(f'unknown context {name!r}')
    return np.asarray(img, dtype=np.float32) + grain
