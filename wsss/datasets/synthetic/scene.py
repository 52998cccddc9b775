"""One sample: what an image contains (classes, objects with their parts, contexts, distractors), where it
goes, and its label, region and instance maps; image ids.

Any image can be regenerated alone: its randomness comes only from :func:`sample_rng` (seed, split, index,
stream), i.e. ``numpy.random.default_rng([seed, split_code, index, stream])`` (see :func:`render_sample`,
:func:`render_by_id`). Stream 0 renders the image, streams 1 and 2 simulate its saliency maps
(:mod:`wsss.datasets.synthetic.saliency`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import distance_transform_edt

from wsss.datasets.synthetic import params
from wsss.datasets.synthetic.filters import boundary_band, gauss_blur
from wsss.datasets.synthetic.shapes import grid, part_area, part_mask, region_mask, shape_mask
from wsss.datasets.synthetic.textures import background_texture, body_texture, context_texture, part_texture
from wsss.utils.region_codes import REGION_BACKGROUND, REGION_BODY, REGION_CONTEXT, REGION_IGNORE, REGION_PART
from wsss.utils.seed import sample_rng as keyed_rng
from wsss.utils.voc_meta import IGNORE_INDEX, NUM_CLASSES


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


def _split_code(split: str) -> int:
    if split not in params.SPLIT_CODES:
        raise ValueError(f'unknown split {split!r}; expected one of {sorted(params.SPLIT_CODES)}')
    return params.SPLIT_CODES[split]


def sample_rng(seed: int, split: str, index: int, stream: int = 0) -> np.random.Generator:
    """The RNG of one image: stream 0 renders it, 1 / 2 simulate the good / poor saliency maps."""
    return keyed_rng(seed, _split_code(split), index, stream)


def _choose_classes(rng, seed: int, split: str, index: int) -> list[int]:
    # primary class cycles over the 20 classes, so any 20 consecutive images cover them all
    primary = (index + int(seed) + 7 * _split_code(split)) % NUM_CLASSES
    classes = [primary]
    u = rng.random()
    n = 3 if u < params.P_THIRD_CLASS else 2 if u < params.P_THIRD_CLASS + params.P_SECOND_CLASS else 1
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
        m = region_mask(rng, yy, xx, s, box, edge)
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
        hgt = rng.uniform(0.22, 0.38) * h * params.CONTEXT_SIZE
        wid = max(0.55 * w, min(rng.uniform(1.3, 2.5) * ow, 1.05 * w))
        if adjacent:
            y0 = min(oy1 - rng.uniform(0.2, 0.5) * hgt, h - 0.6 * hgt)
            x0 = ocx - wid / 2 + rng.uniform(-0.15, 0.15) * ow
            return hgt, wid, (y0, x0, y0 + hgt, x0 + wid)
    elif placement == 'around':
        if adjacent:
            m = rng.uniform(0.08, 0.22, 4) * h * params.CONTEXT_SIZE
            return None, None, (oy0 - m[0], ox0 - m[1], oy1 + m[2], ox1 + m[3])
        k = np.sqrt(params.CONTEXT_SIZE)  # both sides scaled: the area scales by CONTEXT_SIZE
        hgt, wid = rng.uniform(0.32, 0.5) * h * k, rng.uniform(0.32, 0.5) * w * k
    else:  # side
        hgt = rng.uniform(0.45, 0.8) * h
        wid = rng.uniform(0.22, 0.34) * w * params.CONTEXT_SIZE
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


def _extreme_centres(body: np.ndarray, yy, xx, radius: float) -> np.ndarray:
    """Flat indices of the body pixels at least ``radius`` inside it (where a part fits) that lie farthest from
    the body's centroid: the top ``1 - PART_EXTREMITY`` of them by distance (all body pixels if none fits)."""
    inside = distance_transform_edt(np.pad(body, 1))[1:-1, 1:-1] >= radius
    idx = np.flatnonzero(inside)
    if len(idx) == 0:
        return np.flatnonzero(body)
    d = np.hypot(yy.flat[idx] - yy[body].mean(), xx.flat[idx] - xx[body].mean())
    return idx[d >= np.quantile(d, params.PART_EXTREMITY)]


def _make_object(rng, yy, xx, s, cls0: int, extent: float) -> SyntheticObject | None:
    """Body + part for class index ``cls0`` (0-based); None when no part fits (rare)."""
    h, w = yy.shape
    shape = params.BODY_SHAPES[int(rng.integers(len(params.BODY_SHAPES)))]
    aspect = rng.uniform(1.0, 1.5)
    angle = rng.uniform(0, np.pi)
    cy = rng.uniform(0.42 * extent, h - 0.42 * extent)
    cx = rng.uniform(0.42 * extent, w - 0.42 * extent)
    body = shape_mask(rng, yy, xx, shape, cy, cx, extent, aspect, angle)
    area = float(body.sum())
    if area < 50:
        return None
    across = rng.uniform(*params.PART_ACROSS) * s
    frac = np.clip(part_area(cls0, across) / area, *params.PART_FRACTION)
    target = frac * area
    across = np.sqrt(target / (np.pi / 4 if params.PART_SPECS[cls0]['shape'] == 'disc' else 1.0))
    margin = 2.0 * s
    idx = np.flatnonzero(body) if not params.PART_EXTREMITY else _extreme_centres(body, yy, xx, across / 2 + margin)
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
        if params.PART_FRACTION[0] - 0.005 <= f <= params.PART_FRACTION[1] + 0.005:
            return SyntheticObject(cls=cls0 + 1, shape=shape, body=body, part=part)
    return None


def render_sample(seed: int, split: str, index: int, size: int = 128) -> Sample:
    """Render image ``index`` of ``split`` ('train' | 'val' | 'sod'); depends on nothing else."""
    rng = sample_rng(seed, split, index, 0)
    h = w = int(size)
    s = size / 128.0
    yy, xx = grid(h, w)

    # ---- classes and objects -------------------------------------------------------------------
    classes = _choose_classes(rng, seed, split, index)
    n_obj = len(classes)
    if n_obj == 1:
        n_obj = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    elif n_obj == 2:
        n_obj = int(rng.choice([2, 3], p=[0.75, 0.25]))
    obj_classes = classes + [int(rng.choice(classes)) for _ in range(n_obj - len(classes))]
    ext_range = params.OBJ_EXTENT_SINGLE if n_obj == 1 else params.OBJ_EXTENT_MULTI

    objects: list[SyntheticObject] = []
    for attempt in range(30):
        if attempt and attempt % 10 == 0 and len(obj_classes) > 1:
            obj_classes = obj_classes[:-1]  # too crowded: drop one (never the primary class)
            ext_range = params.OBJ_EXTENT_SINGLE if len(obj_classes) == 1 else params.OBJ_EXTENT_MULTI
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
        ok = all(((inst == k + 1) & o.body).sum() >= params.MIN_VISIBLE_OBJECT * o.body.sum()
                 and ((inst == k + 1) & o.part).sum() >= params.MIN_VISIBLE_PART * o.part.sum()
                 for k, o in enumerate(objects))
        if ok:
            break
    occupied = inst > 0

    # ---- contexts --------------------------------------------------------------------------------
    present = sorted({o.cls for o in objects})
    ctx_specs = []  # (cls, anchor object, adjacent, foreign)
    for c in present:
        if rng.random() < params.P_OWN_CONTEXT:
            anchors = [o for o in objects if o.cls == c]
            ctx_specs.append((c, anchors[int(rng.integers(len(anchors)))],
                              rng.random() < params.P_CONTEXT_ADJACENT, False))
    absent = [c for c in range(1, NUM_CLASSES + 1) if c not in present]
    if params.P_FOREIGN_CONTEXT_EACH is not None:  # each absent class on its own
        foreign = [c for c in absent if rng.random() < params.P_FOREIGN_CONTEXT_EACH]
    else:
        foreign = [int(rng.choice(absent))] if rng.random() < params.P_FOREIGN_CONTEXT else []
    for c in foreign:
        ctx_specs.append((c, objects[int(rng.integers(len(objects)))], rng.random() < 0.5, True))

    # ---- composite: background, contexts, distractors, objects ----------------------------------
    img = background_texture(rng, yy, xx, s)
    ctx_layer = np.zeros((h, w), dtype=bool)
    contexts: list[SyntheticContext] = []
    for c, anchor, adjacent, foreign in ctx_specs:
        name, placement, edge = params.CONTEXTS[c - 1]
        hgt, wid, box = _context_box(rng, s, h, w, placement, _bbox(anchor.body), adjacent)
        region = None if box is None else region_mask(rng, yy, xx, s, box, edge)
        if region is not None and (region & ~occupied).sum() < params.MIN_VISIBLE_CONTEXT * region.sum():
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

    img = gauss_blur(img, 0.55 * s)
    img = img + rng.normal(0.0, rng.uniform(0.01, 0.025), img.shape).astype(np.float32)
    image = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)

    # ---- labels -----------------------------------------------------------------------------------
    cls_of = np.array([0] + [o.cls for o in objects], dtype=np.uint8)
    label = cls_of[inst]
    regions = np.full((h, w), REGION_BACKGROUND, dtype=np.uint8)
    regions[ctx_layer] = REGION_CONTEXT
    regions[inst > 0] = REGION_BODY
    regions[part_vis] = REGION_PART
    band = boundary_band(inst, max(1, int(round(params.BOUNDARY_RADIUS * s))))
    label[band] = IGNORE_INDEX
    regions[band] = REGION_IGNORE
    return Sample(image=image, label=label, regions=regions, instances=inst, objects=objects,
                  contexts=contexts)


def image_id(split: str, index: int) -> str:
    if split == 'train':
        return f'{params.ID_PREFIX}{index:06d}'
    if split == 'val':
        return f'{params.ID_PREFIX}{params.VAL_ID_OFFSET + index:06d}'
    if split == 'sod':
        return f'{params.SOD_PREFIX}{index:06d}'
    raise ValueError(f'unknown split {split!r}')


def parse_id(name: str) -> tuple[str, int]:
    """Inverse of :func:`image_id`: ``'syn_100003'`` -> ``('val', 3)``."""
    if name.startswith(params.SOD_PREFIX):
        return 'sod', int(name[len(params.SOD_PREFIX):])
    if name.startswith(params.ID_PREFIX):
        n = int(name[len(params.ID_PREFIX):])
        return ('val', n - params.VAL_ID_OFFSET) if n >= params.VAL_ID_OFFSET else ('train', n)
    raise ValueError(f'{name!r} is not a synthetic image id (syn_NNNNNN or sod_NNNNNN)')


def render_by_id(name: str, seed: int = params.DEFAULTS['seed'],
                 size: int = params.DEFAULTS['size']) -> Sample:
    """Regenerate one image from its id alone (same seed and size as the data set)."""
    split, index = parse_id(name)
    return render_sample(seed, split, index, size)
