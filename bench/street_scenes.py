"""Cityscapes-like synthetic street scenes at real resolution, for benchmarks.

``street_scene(index, seed=0, size=(720, 1280), num_classes=19)`` returns ``(image, mask)``:
an (H, W, 3) uint8 RGB photo-like image and an (H, W) uint8 mask of class ids
(:data:`STREET_CLASS_NAMES`; :data:`IGNORE` = 255 marks unlabelled pixels, e.g. the ego
vehicle's bonnet). It is a pure function of ``(seed, index)`` and costs ~15-25 ms at 720p.

What a scene holds, like a real street photo's label map: large regions (sky, buildings,
vegetation, road, sidewalks, terrain) with jagged boundaries (skylines, tree crowns,
ragged verges); many small objects in perspective (cars, persons, riders on bicycles and
motorcycles, a few trucks and buses, rarely a train), the far ones a few pixels tall and
drawn back to front so near objects occlude far ones; thin structures (poles 2-6 px wide,
fences drawn as a lattice, so full of holes); objects with holes (wheels as rings, sky
seen through tree crowns). Image colours follow the class with per-object variation,
shading and sensor-like noise, so JPEG files come out at realistic sizes.
With ``num_classes`` < 19, class ids fold onto ``id % num_classes`` (255 stays 255).
"""
from __future__ import annotations

import functools
from typing import Callable, List, Tuple

import cv2
import numpy as np

STREET_CLASS_NAMES = [
    "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
    "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
]
(ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY, PERSON, RIDER, CAR, TRUCK,
 BUS, TRAIN, MOTORCYCLE, BICYCLE) = range(19)
IGNORE = 255

Draw = Callable[[np.ndarray, np.ndarray], None]  # draw(image, mask), in place


@functools.lru_cache(maxsize=4)
def _noise(h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Fixed non-negative noise tiles (fine grain, and a strong one for foliage), 64 px larger than the image."""
    rng = np.random.default_rng(h * 7919 + w)
    fine = rng.integers(0, 14, (h + 64, w + 64, 3), dtype=np.uint8)
    coarse = cv2.resize(rng.integers(0, 70, ((h + 64) // 3, (w + 64) // 3, 3), dtype=np.uint8), (w + 64, h + 64),
                        interpolation=cv2.INTER_NEAREST)
    return fine, coarse


def _jitter(rng: np.random.Generator, rgb, sd: float = 14.0) -> Tuple[int, int, int]:
    return tuple(int(min(255, max(0, c + d))) for c, d in zip(rgb, rng.normal(0.0, sd, 3)))


def _ragged(rng: np.random.Generator, x0: float, x1: float, y: float, amp: float, step: float) -> np.ndarray:
    """Points of a jagged line from x0 to x1 around row y (random walk plus jitter)."""
    xs = np.arange(x0, x1 + step, step)
    ys = y + np.cumsum(rng.normal(0.0, amp * 0.5, len(xs))).clip(-3 * amp, 3 * amp) + rng.normal(0.0, amp * 0.3, len(xs))
    return np.stack([xs, ys], axis=1)


def _blob(rng: np.random.Generator, cx: float, cy: float, r: float, k: int = 24) -> np.ndarray:
    """A star-shaped polygon with a noisy radius (tree crowns, bushes)."""
    a = np.linspace(0, 2 * np.pi, k, endpoint=False)
    rr = r * (1.0 + 0.25 * rng.standard_normal(k)).clip(0.5, 1.6)
    return np.stack([cx + rr * np.cos(a), cy + rr * np.sin(a)], axis=1).astype(np.int32)


def _both(img: np.ndarray, mask: np.ndarray, fn, cls: int, colour, *args) -> None:
    """Draw the same shape into the image (colour) and the mask (class id); for every OpenCV
    drawing function but ``fillPoly`` the last of ``args`` is the thickness."""
    geometry, rest = (args, ()) if fn is cv2.fillPoly else (args[:-1], args[-1:])
    fn(img, *geometry, colour, *rest)
    fn(mask, *geometry, cls, *rest)


def street_scene(index: int, seed: int = 0, size=(720, 1280), num_classes: int = 19) -> Tuple[np.ndarray, np.ndarray]:
    """(image (H, W, 3) uint8 RGB, mask (H, W) uint8) of street scene ``index``; deterministic per (seed, index)."""
    h, w = int(size[0]), int(size[1])
    rng = np.random.default_rng([int(seed), int(index), 0x5EED])
    s = h / 720.0
    img = np.empty((h, w, 3), np.uint8)
    mask = np.full((h, w), SKY, np.uint8)
    horizon = int(h * rng.uniform(0.38, 0.5))
    vx = w * rng.uniform(0.35, 0.65)
    # sky: a vertical gradient
    top, low = np.array(_jitter(rng, (95, 140, 205), 15)), np.array(_jitter(rng, (200, 210, 220), 10))
    t = np.linspace(0.0, 1.0, max(horizon, 1))[:, None]
    column = (top * (1 - t) + low * t).astype(np.uint8)[:, None, :]
    cv2.resize(column, (w, horizon), dst=img[:horizon], interpolation=cv2.INTER_NEAREST)
    _skyline(rng, img, mask, h, w, horizon, s)
    _ground(rng, img, mask, h, w, horizon, vx, s)
    objects = _objects(rng, h, w, horizon, vx, s)
    for _, draw in sorted(objects, key=lambda o: o[0]):  # back to front: near objects occlude far ones
        draw(img, mask)
    if rng.random() < 0.3:  # the ego vehicle's bonnet: unlabelled
        bonnet = np.array([[0, h], [0, h - 0.06 * h], [0.3 * w, h - 0.1 * h], [0.7 * w, h - 0.1 * h],
                           [w, h - 0.06 * h], [w, h]], np.int32)
        _both(img, mask, cv2.fillPoly, IGNORE, (25, 25, 30), [bonnet])
    _texture(rng, img, mask, h, w)
    if num_classes < len(STREET_CLASS_NAMES):
        fold = np.arange(256, dtype=np.uint8)
        fold[:len(STREET_CLASS_NAMES)] = np.arange(len(STREET_CLASS_NAMES)) % num_classes
        mask = cv2.LUT(mask, fold)
    return img, mask


def _skyline(rng, img, mask, h, w, horizon, s) -> None:
    """Buildings with stepped, ragged roofs, some walls, tree crowns with sky showing through."""
    x = -rng.uniform(0, 100 * s)
    base = horizon + int(0.03 * h)
    while x < w:
        bw = rng.uniform(60, 300) * s
        if rng.random() < 0.15:  # a gap: sky down to the horizon
            x += bw * 0.5
            continue
        roof = horizon - rng.uniform(0.05, 0.45) * h
        pts = [[x, base]] + [[px, min(py, horizon - 4)] for px, py in _ragged(rng, x, x + bw, roof, 5 * s, 8 * s)]
        pts.append([x + bw, base])
        colour = _jitter(rng, [(140, 130, 120), (110, 100, 95), (170, 155, 135), (120, 120, 130)][int(rng.integers(4))])
        _both(img, mask, cv2.fillPoly, BUILDING, colour, [np.array(pts, np.int32)])
        dark = tuple(int(c * 0.55) for c in colour)
        for wy in np.arange(roof + 12 * s, base - 20 * s, 28 * s):  # windows: image only
            for wx in np.arange(x + 8 * s, x + bw - 14 * s, 22 * s):
                cv2.rectangle(img, (int(wx), int(wy)), (int(wx + 10 * s), int(wy + 14 * s)), dark, -1)
        x += bw
    for _ in range(int(rng.integers(0, 3))):  # walls in front of the buildings
        x0, ww, wh = rng.uniform(-0.1, 0.9) * w, rng.uniform(0.1, 0.3) * w, rng.uniform(15, 60) * s
        _both(img, mask, cv2.rectangle, WALL, _jitter(rng, (150, 145, 135)),
              (int(x0), int(base - wh)), (int(x0 + ww), base + int(4 * s)), -1)
    for _ in range(int(rng.integers(2, 9))):  # tree crowns, some with holes of sky
        cx, cy, r = rng.uniform(0, w), horizon - rng.uniform(0.0, 0.3) * h, rng.uniform(25, 140) * s
        crown = _blob(rng, cx, cy, r)
        _both(img, mask, cv2.fillPoly, VEGETATION, _jitter(rng, (70, 110, 45), 18), [crown])
        _both(img, mask, cv2.line, VEGETATION, (70, 55, 40), (int(cx), int(cy)), (int(cx), base), max(2, int(r / 8)))
        for _ in range(int(rng.integers(0, 4))):
            hx, hy = cx + rng.uniform(-0.5, 0.5) * r, cy + rng.uniform(-0.5, 0.3) * r
            _both(img, mask, cv2.fillPoly, SKY, (175, 195, 215), [_blob(rng, hx, hy, rng.uniform(2, max(2.0, 0.15 * r)) + 1, 8)])


def _ground(rng, img, mask, h, w, horizon, vx, s) -> None:
    """Terrain verges with ragged edges, sidewalks, the road with lane marks, a hedge and a fence."""
    _both(img, mask, cv2.rectangle, TERRAIN, _jitter(rng, (110, 120, 70)), (0, horizon), (w, h), -1)
    half = rng.uniform(0.02, 0.06) * w
    bl, br = vx - rng.uniform(0.45, 0.9) * w, vx + rng.uniform(0.45, 0.9) * w
    walk = rng.uniform(0.25, 0.6) * w
    for sign in (-1, 1):  # sidewalk on each side, its outer edge ragged
        inner_bottom = bl if sign < 0 else br
        ys = np.linspace(horizon, h, 40)
        tt = (ys - horizon) / (h - horizon)
        xs_in = vx + sign * half + tt * (inner_bottom - vx - sign * half)
        xs_out = xs_in + sign * (4 * s + tt * walk) + rng.normal(0, 4 * s, len(ys)) * tt
        outer = np.stack([xs_out, ys], axis=1)
        poly = np.concatenate([np.stack([xs_in, ys], axis=1), outer[::-1]]).astype(np.int32)
        _both(img, mask, cv2.fillPoly, SIDEWALK, _jitter(rng, (150, 140, 140), 10), [poly])
    road = np.array([[vx - half, horizon], [vx + half, horizon], [br, h], [bl, h]], np.int32)
    _both(img, mask, cv2.fillPoly, ROAD, _jitter(rng, (85, 85, 90), 8), [road])
    for t0 in np.arange(rng.uniform(0.0, 0.15), 1.0, 0.15):  # lane dashes, image only
        t = np.array([t0, t0 + 0.07])
        ys, xs = horizon + t * (h - horizon), vx + t * ((bl + br) / 2 - vx)
        hw = 1 + t * 0.01 * w
        dash = np.array([[xs[0] - hw[0], ys[0]], [xs[0] + hw[0], ys[0]], [xs[1] + hw[1], ys[1]],
                         [xs[1] - hw[1], ys[1]]], np.int32)
        cv2.fillPoly(img, [dash], (225, 225, 215))
    if rng.random() < 0.6:  # a hedge along the horizon with a ragged top
        x0, x1 = sorted(rng.uniform(0, w, 2))
        pts = _ragged(rng, x0, x1, horizon - rng.uniform(8, 30) * s, 3 * s, 6 * s)
        poly = np.concatenate([pts, [[x1, horizon + 6 * s], [x0, horizon + 6 * s]]]).astype(np.int32)
        _both(img, mask, cv2.fillPoly, VEGETATION, _jitter(rng, (60, 100, 40), 15), [poly])
    if rng.random() < 0.7:  # a fence: a lattice, full of holes
        side = -1 if rng.random() < 0.5 else 1
        x0 = 0 if side < 0 else int(vx + half + 0.3 * w)
        x1 = int(vx - half - 0.3 * w) if side < 0 else w
        top, bottom = int(horizon - rng.uniform(15, 45) * s), int(horizon + rng.uniform(10, 40) * s)
        colour, thick = _jitter(rng, (120, 120, 110), 10), max(1, int(2 * s))
        step = max(4, int(rng.uniform(7, 16) * s))
        for x in range(x0, max(x0 + 1, x1), step):
            _both(img, mask, cv2.line, FENCE, colour, (x, top), (x + step // 2, bottom), thick)
            _both(img, mask, cv2.line, FENCE, colour, (x + step // 2, top), (x, bottom), thick)
        for y in (top, bottom):
            _both(img, mask, cv2.line, FENCE, colour, (x0, y), (x1, y), thick + 1)


def _objects(rng, h, w, horizon, vx, s) -> List[Tuple[float, Draw]]:
    """(depth row, draw) of every object: vehicles, persons, riders, poles with signs and lights."""
    out: List[Tuple[float, Draw]] = []

    def ground_row(lo: float = 0.0):
        y = horizon + 2 + (h * 1.05 - horizon) * rng.uniform(lo, 1.0) ** 1.6  # far rows more often
        return y, (y - horizon) / (h - horizon)

    for _ in range(int(rng.integers(6, 22))):
        y, p = ground_row()
        kind = rng.choice([CAR, CAR, CAR, CAR, TRUCK, BUS, TRAIN], p=[0.22, 0.22, 0.22, 0.2, 0.07, 0.05, 0.02])
        out.append((y, _vehicle(rng, int(kind), vx + rng.normal(0, 0.45) * w * (0.2 + p), y, p, s)))
    for _ in range(int(rng.integers(2, 16))):
        y, p = ground_row()
        out.append((y, _person(rng, rng.uniform(0, w), y, p, s, PERSON)))
    for _ in range(int(rng.integers(0, 4))):
        y, p = ground_row()
        out.append((y, _two_wheeler(rng, vx + rng.normal(0, 0.3) * w * (0.2 + p), y, p, s)))
    for _ in range(int(rng.integers(3, 11))):
        y, p = ground_row(0.05)
        out.append((y, _pole(rng, rng.uniform(0, w), y, p, s)))
    return out


def _vehicle(rng, kind, x, y, p, s) -> Draw:
    width = {CAR: 380, TRUCK: 520, BUS: 600, TRAIN: 900}[kind] * s * p * rng.lognormal(0, 0.15)
    height = width * {CAR: 0.6, TRUCK: 0.85, BUS: 0.9, TRAIN: 0.55}[kind] * rng.uniform(0.9, 1.1)
    colour = _jitter(rng, [(200, 30, 30), (30, 60, 180), (225, 225, 225), (40, 40, 40), (160, 160, 170)][int(rng.integers(5))])
    x0, x1, y0, yb = int(x - width / 2), int(x + width / 2), int(y - height), int(y - height * 0.12)
    cab = np.array([[x0 + width * 0.15, y0 + height * 0.45], [x0 + width * 0.28, y0],
                    [x1 - width * 0.25, y0], [x1 - width * 0.1, y0 + height * 0.45]], np.int32)
    r = max(1, int(height * 0.16))

    def draw(img, mask):
        body_top = int(y0 + height * 0.4) if kind == CAR else y0
        _both(img, mask, cv2.rectangle, kind, colour, (x0, body_top), (x1, yb), -1)
        if kind == CAR:
            _both(img, mask, cv2.fillPoly, kind, colour, [cab])
            if width > 30:  # windows: image only
                cv2.fillPoly(img, [cab], (55, 65, 80))
        for cx in (x0 + width * 0.2, x1 - width * 0.2):
            _both(img, mask, cv2.circle, kind, (20, 20, 20), (int(cx), int(y - r)), r, -1)
    return draw


def _person(rng, x, y, p, s, cls) -> Draw:
    ph = max(3.0, 330 * s * p * rng.lognormal(0, 0.12))
    clothes = _jitter(rng, [(40, 40, 120), (150, 30, 30), (30, 110, 50), (60, 60, 60)][int(rng.integers(4))])
    body = (int(x), int(y - ph * 0.55)), (max(1, int(ph * 0.12)), max(1, int(ph * 0.22)))
    leg = max(1, int(ph * 0.05))

    def draw(img, mask):
        _both(img, mask, cv2.ellipse, cls, clothes, body[0], body[1], 0, 0, 360, -1)
        for dx in (-ph * 0.05, ph * 0.05):
            _both(img, mask, cv2.line, cls, (40, 40, 50), (int(x), int(y - ph * 0.4)), (int(x + dx * 2), int(y)), leg)
        _both(img, mask, cv2.circle, cls, _jitter(rng, (200, 160, 130), 20), (int(x), int(y - ph * 0.86)),
              max(1, int(ph * 0.08)), -1)
    return draw


def _two_wheeler(rng, x, y, p, s) -> Draw:
    """A bicycle or motorcycle (wheels as rings: holes) with a rider on it."""
    kind = BICYCLE if rng.random() < 0.6 else MOTORCYCLE
    r = max(2, int(45 * s * p * (1.3 if kind == MOTORCYCLE else 1.0)))
    thick = max(1, r // (8 if kind == BICYCLE else 3))
    rider = _person(rng, x, y - r * 0.8, p, s, RIDER)
    a, b = (int(x - r * 1.2), int(y - r)), (int(x + r * 1.2), int(y - r))

    def draw(img, mask):
        colour = (30, 30, 30)
        for c in (a, b):
            _both(img, mask, cv2.circle, kind, colour, c, r, thick)
        _both(img, mask, cv2.line, kind, (150, 20, 20), a, (int(x), int(y - 2 * r)), thick)
        _both(img, mask, cv2.line, kind, (150, 20, 20), (int(x), int(y - 2 * r)), b, thick)
        rider(img, mask)
    return draw


def _pole(rng, x, y, p, s) -> Draw:
    """A pole 2-6 px wide (near ones wider) with a traffic sign or a traffic light on it."""
    width = int(np.clip(round(2 + 4 * p * rng.uniform(0.7, 1.3)), 2, 6)) if p > 0.15 else 1 + int(p > 0.05)
    height = max(4.0, 0.75 * h_of(s) * p * rng.uniform(0.8, 1.2))
    top = int(y - height)
    what = rng.random()
    box = max(2, int(30 * s * p * rng.uniform(0.7, 1.3)))

    def draw(img, mask):
        _both(img, mask, cv2.rectangle, POLE, (120, 120, 125), (int(x), top), (int(x) + width - 1, int(y)), -1)
        if what < 0.45:
            colour = [(210, 30, 30), (230, 200, 30), (30, 80, 200)][int(rng.integers(3))]
            if rng.random() < 0.5:
                _both(img, mask, cv2.circle, SIGN, colour, (int(x), top), box, -1)
            else:
                _both(img, mask, cv2.rectangle, SIGN, colour, (int(x) - box, top - box), (int(x) + box, top + box // 2), -1)
        elif what < 0.8:
            _both(img, mask, cv2.rectangle, LIGHT, (35, 35, 35), (int(x) - box // 2, top), (int(x) + box // 2, top + 2 * box), -1)
            cv2.circle(img, (int(x), top + box // 2), max(1, box // 3), (40, 220, 60), -1)
    return draw


def h_of(s: float) -> float:
    return 720.0 * s


def _texture(rng, img, mask, h, w) -> None:
    """Soft edges, sensor noise everywhere, strong grain on foliage and terrain (in place)."""
    cv2.GaussianBlur(img, (3, 3), 0, dst=img)
    fine, coarse = _noise(h, w)
    oy, ox = int(rng.integers(0, 64)), int(rng.integers(0, 64))
    n1 = fine[oy:oy + h, ox:ox + w]
    n2 = fine[63 - oy:63 - oy + h, 63 - ox:63 - ox + w]
    cv2.add(img, n1, dst=img)
    cv2.subtract(img, n2, dst=img)
    rough = (mask == VEGETATION) | (mask == TERRAIN)
    rough_u8 = rough.view(np.uint8)
    c = coarse[oy:oy + h, ox:ox + w]
    cv2.subtract(img, c, dst=img, mask=rough_u8)
    cv2.add(img, coarse[63 - oy:63 - oy + h, 63 - ox:63 - ox + w] // 2, dst=img, mask=rough_u8)
